//! The runner: each replica polls for due jobs of the kinds it handles, leases a few, runs them under a
//! span that is a child of, and linked to, the request that caused each, and records the outcome: succeeded, pending again after
//! a backoff with jitter, or dead-lettered.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use futures::future::{BoxFuture, join_all};
use opentelemetry::{Context, trace::TraceContextExt};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{Job, JobFailure, JobSettings, JobState, store};
use crate::clock::Clock;

/// How often a runner looks for due jobs when nobody rings: for jobs recorded by other replicas,
/// retries coming due, and expired leases.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How many jobs one pass leases; they run concurrently.
const BATCH: u64 = 16;

/// Runs one attempt of a job of one kind, given the service's state.
pub type Handler<T> = Arc<dyn Fn(Arc<T>, Job) -> BoxFuture<'static, Result<(), JobFailure>> + Send + Sync>;

/// A service's runner, before it starts: its database, settings, bell and handlers.
pub struct Runner<T> {
    db: DatabaseConnection,
    settings: JobSettings,
    clock: Clock,
    bell: Arc<Notify>,
    handlers: HashMap<&'static str, Handler<T>>,
}

impl<T: Send + Sync + 'static> Runner<T> {
    /// A runner of jobs in `db` (migrated with [`super::schema::create_table`]), scheduled by
    /// `settings` on `clock`, woken early by `bell` (rung after a commit that recorded a job).
    pub fn new(db: DatabaseConnection, settings: JobSettings, clock: Clock, bell: Arc<Notify>) -> Self {
        Self { db, settings, clock, bell, handlers: HashMap::new() }
    }

    /// Runs jobs of `kind` with `handler`. Only the kinds named here are leased: a job of a kind this
    /// release does not know waits for one that does.
    pub fn handle<F, Fut>(mut self, kind: &'static str, handler: F) -> Self
    where
        F: Fn(Arc<T>, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        self.handlers.insert(kind, Arc::new(move |state, job| Box::pin(handler(state, job))));
        self
    }

    /// Starts the runner in the background. It runs while `owner` (the service's state, which handlers
    /// get) lives: it holds only a weak reference between passes, so dropping the service stops it.
    pub fn spawn(self, owner: Weak<T>) {
        let shared = Arc::new(Shared {
            db: self.db,
            settings: self.settings,
            clock: self.clock,
            kinds: self.handlers.keys().copied().collect(),
            handlers: self.handlers,
            // A lease names its holder, so a replica that lost a lease cannot record over the new holder.
            owner: uuid::Uuid::new_v4().to_string(),
        });
        tokio::spawn(run(shared, owner, self.bell));
    }
}

struct Shared<T> {
    db: DatabaseConnection,
    settings: JobSettings,
    clock: Clock,
    kinds: Vec<&'static str>,
    handlers: HashMap<&'static str, Handler<T>>,
    owner: String,
}

async fn run<T: Send + Sync + 'static>(shared: Arc<Shared<T>>, owner: Weak<T>, bell: Arc<Notify>) {
    loop {
        let Some(state) = owner.upgrade() else { return };
        let full = match pass(&shared, &state).await {
            Ok(leased) => leased == BATCH,
            Err(error) => {
                tracing::warn!(%error, "the job runner could not read its jobs; retrying");
                false
            }
        };
        // Hold no strong reference while asleep, so dropping the service stops the runner.
        drop(state);
        if !full {
            let _ = tokio::time::timeout(POLL_INTERVAL, bell.notified()).await;
        }
    }
}

/// Leases due jobs and runs them; returns how many it leased.
async fn pass<T: Send + Sync + 'static>(shared: &Shared<T>, state: &Arc<T>) -> Result<u64, sea_orm::DbErr> {
    let now = shared.clock.now();
    // The look for work runs outside any span: the telemetry sampler drops database statements that
    // have no parent, so a runner with nothing to do leaves no trace at all.
    let due = store::any_due(&shared.db, &shared.kinds, now).await?;
    if !due {
        return Ok(0);
    }
    let lease_until = now + chrono::Duration::from_std(shared.settings.lease).unwrap_or(chrono::Duration::MAX);
    let leased = store::lease(&shared.db, &shared.owner, &shared.kinds, now, lease_until, BATCH).await?;
    let count = leased.len() as u64;
    join_all(leased.into_iter().map(|record| attempt(shared, state.clone(), record))).await;
    Ok(count)
}

/// Runs one attempt of `record` and records its outcome, in a span of its own linked to its cause.
async fn attempt<T: Send + Sync + 'static>(shared: &Shared<T>, state: Arc<T>, record: store::JobRecord) {
    let span = tracing::info_span!(
        parent: None,
        "job",
        otel.name = format!("job {}", record.kind),
        otel.kind = "consumer",
        otel.status_code = Empty,
        job.id = record.id,
        job.kind = %record.kind,
        job.subject = %record.subject,
        job.attempt = record.attempts,
        error.type = Empty,
    );
    // The request that caused the job is its parent, so a dossier's creation and the receipts and
    // signatures its jobs bring are one trace, and its link, so a retry hours later still names it.
    if let Some(cause) = crate::grpc_trace::span_context_of(&record.traceparent) {
        // Fails only when no OpenTelemetry layer is installed, when nothing is exported anyway.
        let _ = span.set_parent(Context::new().with_remote_span_context(cause.clone()));
        span.add_link(cause);
    }
    async move {
        let job = record.job();
        let outcome = match shared.handlers.get(record.kind.as_str()) {
            // Cut off at half the lease, so the job is never taken again while this attempt runs.
            Some(handler) => tokio::time::timeout(shared.settings.lease / 2, handler(state, job))
                .await
                .unwrap_or_else(|_| Err(JobFailure::Retry { reason: "DEADLINE_EXCEEDED".to_owned() })),
            None => Err(JobFailure::Permanent { reason: "NO_HANDLER".to_owned() }),
        };
        let now = shared.clock.now();
        let recorded = match &outcome {
            Ok(()) => store::succeed(&shared.db, record.id, &shared.owner, now).await,
            Err(failure) => {
                let span = Span::current();
                span.record("otel.status_code", "ERROR");
                span.record("error.type", failure.reason());
                let exhausted = record.attempts >= i32::try_from(shared.settings.max_attempts).unwrap_or(i32::MAX);
                let (outcome, run_at) = match failure {
                    JobFailure::Retry { .. } if !exhausted => {
                        let wait = backoff(&shared.settings, record.attempts, jitter());
                        (JobState::Pending, now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
                    }
                    _ => (JobState::DeadLettered, now),
                };
                if outcome == JobState::DeadLettered {
                    tracing::warn!(job = record.id, kind = %record.kind, subject = %record.subject,
                        attempts = record.attempts, reason = failure.reason(), "job dead-lettered; RetryJob runs it again");
                }
                store::fail(&shared.db, record.id, &shared.owner, outcome, run_at, failure.reason(), now).await
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => tracing::warn!(job = record.id, "the job's lease expired during its attempt; its outcome was not recorded"),
            Err(error) => tracing::warn!(job = record.id, %error, "recording the job's outcome failed; its lease will expire"),
        }
    }
    .instrument(span)
    .await;
}

/// The wait after failed attempt `attempts` (from 1): the first backoff doubled for each attempt
/// before it, at most the longest backoff, then somewhere in its upper half by `random` ("equal
/// jitter"), so replicas retrying the same peer spread out instead of arriving together.
pub(super) fn backoff(settings: &JobSettings, attempts: i32, random: u64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(32);
    let ceiling = settings.first_backoff.saturating_mul(1_u32 << doublings.min(31)).min(settings.max_backoff);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    let half = ceiling_ms / 2;
    Duration::from_millis(ceiling_ms - half + random % (half + 1))
}

/// A random number for the jitter: a v4 UUID's bits are random, and the chassis needs no other source.
fn jitter() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_longest_with_jitter_in_its_upper_half() {
        let settings = JobSettings {
            max_attempts: 10,
            first_backoff: Duration::from_millis(1000),
            max_backoff: Duration::from_millis(5000),
            lease: Duration::from_secs(60),
        };
        assert_eq!(backoff(&settings, 1, 0), Duration::from_millis(500));
        assert_eq!(backoff(&settings, 1, 500), Duration::from_millis(1000));
        assert_eq!(backoff(&settings, 2, 1000), Duration::from_millis(2000));
        assert_eq!(backoff(&settings, 3, 0), Duration::from_millis(2000));
        assert_eq!(backoff(&settings, 9, 2500), Duration::from_millis(5000));
        assert_eq!(backoff(&settings, i32::MAX, 0), Duration::from_millis(2500));
        for random in [0, 1, 7, 499, 500, 501, u64::MAX] {
            let wait = backoff(&settings, 1, random);
            assert!((Duration::from_millis(500)..=Duration::from_millis(1000)).contains(&wait), "{wait:?}");
        }
    }
}
