//! The durable job runner every service uses for work a request leaves to be done later (a receipt to
//! sign, a slip to issue): a `jobs` row written in the transaction that creates the work, leased by one
//! replica at a time, retried with exponential backoff and jitter, dead-lettered after its configured
//! attempts, traced as a link to the request that caused it, and shown by `motcua.jobs.v1.JobService`.
//!
//! Why a table rather than a queue in memory: the job commits with the change that needs it, so a crash
//! between the two cannot lose it, and every replica sees every job. Why leases rather than locks held
//! while a job runs: a job calls other services, and a lock held across a network call would pin a
//! database connection; a lease that expires lets another replica take the job of one that died.
//! A job runs at least once: its handler must be idempotent (derived request ids, state checks).

mod runner;
pub mod schema;
mod service;
mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

pub use runner::{Handler, Runner};
pub use service::server;
pub use store::{JobRecord, for_subject};

/// How the runner schedules attempts; read from `MOTCUA_JOBS_*` into [`crate::ServiceConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with each further one.
    pub first_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// How long a replica holds a job it leased; an attempt is cut off at half of it, so a job is never
    /// taken again while its attempt still runs.
    pub lease: Duration,
}

impl Default for JobSettings {
    /// The defaults listed with the `MOTCUA_JOBS_*` variables, for tests and `motcua up`.
    fn default() -> Self {
        use crate::config::{
            ENV_JOBS_FIRST_BACKOFF_MS, ENV_JOBS_LEASE_MS, ENV_JOBS_MAX_ATTEMPTS, ENV_JOBS_MAX_BACKOFF_MS, VARIABLES,
            default_of,
        };
        let listed = |name| {
            default_of(VARIABLES, name).parse::<u64>().expect("the listed defaults of MOTCUA_JOBS_* are whole numbers")
        };
        Self {
            max_attempts: u32::try_from(listed(ENV_JOBS_MAX_ATTEMPTS)).unwrap_or(u32::MAX),
            first_backoff: Duration::from_millis(listed(ENV_JOBS_FIRST_BACKOFF_MS)),
            max_backoff: Duration::from_millis(listed(ENV_JOBS_MAX_BACKOFF_MS)),
            lease: Duration::from_millis(listed(ENV_JOBS_LEASE_MS)),
        }
    }
}

crate::coded_enum! {
    /// Where a job is in its life; the numbers are those of `motcua.jobs.v1.JobState` and of the `state`
    /// column.
    pub enum JobState {
        /// Waiting for its `run_at`.
        Pending = 1,
        /// Leased by a replica until `lease_until`.
        Running = 2,
        /// Done.
        Succeeded = 3,
        /// Waiting for an operator's `RetryJob`.
        DeadLettered = 4,
    }
}

/// Work to record, inside the transaction that creates it.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What it does, `<service>.<verb>` (`receipt.sign`); the runner calls the handler of this kind.
    pub kind: &'static str,
    /// The resource it works on, as a resource name (`receipts/...`). Never personal data.
    pub subject: String,
    /// What its handler needs beyond the subject, in the service's own encoding.
    pub payload: Vec<u8>,
    /// The request id of the call that caused it, from which the job derives the ids of its own calls.
    pub request_id: String,
}

/// A job as its handler gets it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its row id; `jobs/{id}` is its name.
    pub id: i64,
    /// What it does.
    pub kind: String,
    /// The resource it works on.
    pub subject: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// The request id of the call that caused it.
    pub request_id: String,
    /// This attempt's number, from 1 (reset to 0 by `RetryJob`).
    pub attempt: i32,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobFailure {
    /// It may succeed later (a peer down, a timeout): tried again after the backoff, until the attempts
    /// run out.
    #[error("failed for now: {reason}")]
    Retry {
        /// An ErrorInfo reason or a code's name, shown in `ListJobs`.
        reason: String,
    },
    /// It will not succeed by itself (the peer refused): dead-lettered now, for an operator.
    #[error("failed for good: {reason}")]
    Permanent {
        /// An ErrorInfo reason or a code's name, shown in `ListJobs`.
        reason: String,
    },
}

impl JobFailure {
    /// The reason, as stored.
    pub fn reason(&self) -> &str {
        match self {
            Self::Retry { reason } | Self::Permanent { reason } => reason,
        }
    }
}

impl From<DbErr> for JobFailure {
    fn from(error: DbErr) -> Self {
        tracing::warn!(%error, "a job's database work failed; it will be retried");
        Self::Retry { reason: "DATABASE_ERROR".to_owned() }
    }
}

/// Records `job` through `connection`, which should be the transaction that creates the work: both
/// commit, or neither. The trace context of the current span (the request's) is stored with it. Wake
/// the service's runner after the commit.
pub async fn enqueue(connection: &impl ConnectionTrait, now: DateTime<Utc>, job: NewJob) -> Result<(), DbErr> {
    enqueue_many(connection, now, vec![(job, crate::grpc_trace::current_traceparent())]).await
}

/// Records `jobs` in one statement, as [`enqueue`] records one, for a batch of calls committed
/// together: each comes with the `traceparent` of the call that caused it (from
/// [`crate::grpc_trace::current_traceparent`] in that call's handler), as the batch runs apart from them.
pub async fn enqueue_many(
    connection: &impl ConnectionTrait,
    now: DateTime<Utc>,
    jobs: Vec<(NewJob, String)>,
) -> Result<(), DbErr> {
    store::insert(connection, now, jobs).await
}
