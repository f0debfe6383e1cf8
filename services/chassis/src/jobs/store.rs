//! The `jobs` table's statements: recording jobs, leasing the due ones (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL; SQLite has one writer, so its single UPDATE is the lease), the outcome of an attempt,
//! and the operator's reads and retry.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

use super::{Job, JobState, NewJob};
use crate::db::placeholders;

/// The columns every read returns.
const COLUMNS: &str =
    "id, kind, subject, payload, request_id, traceparent, state, attempts, run_at, last_error, created_at, updated_at";

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
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
    /// The W3C traceparent of that call, or empty.
    pub traceparent: String,
    /// Where it is in its life.
    pub state: JobState,
    /// How many attempts were started.
    pub attempts: i32,
    /// When it runs next, while pending.
    pub run_at: DateTime<Utc>,
    /// The last failed attempt's reason; empty once it succeeds.
    pub last_error: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl JobRecord {
    /// The job as its handler gets it.
    pub(super) fn job(&self) -> Job {
        Job {
            id: self.id,
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            payload: self.payload.clone(),
            request_id: self.request_id.clone(),
            attempt: self.attempts,
        }
    }
}

/// Inserts `jobs` with their traceparents, due now, in one statement.
pub(super) async fn insert(
    connection: &impl ConnectionTrait,
    now: DateTime<Utc>,
    jobs: Vec<(NewJob, String)>,
) -> Result<(), DbErr> {
    if jobs.is_empty() {
        return Ok(());
    }
    const PER_ROW: usize = 8;
    let mut rows = Vec::with_capacity(jobs.len());
    let mut values: Vec<Value> = Vec::with_capacity(jobs.len() * PER_ROW);
    for (index, (job, traceparent)) in jobs.into_iter().enumerate() {
        let base = index * PER_ROW;
        let numbers: Vec<String> = (base + 1..=base + PER_ROW).map(|n| format!("${n}")).collect();
        rows.push(format!(
            "({}, {}, {}, {}, {}, {}, 0, {}, '', NULL, '', {}, {})",
            numbers[0],
            numbers[1],
            numbers[2],
            numbers[3],
            numbers[4],
            JobState::Pending as i16,
            numbers[5],
            numbers[6],
            numbers[7]
        ));
        values.extend([
            Value::from(job.kind),
            job.subject.into(),
            job.payload.into(),
            job.request_id.into(),
            traceparent.into(),
            now.into(),
            now.into(),
            now.into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO jobs (kind, subject, payload, request_id, traceparent, state, attempts, run_at, lease_owner, \
         lease_until, last_error, created_at, updated_at) VALUES {}",
        rows.join(", ")
    );
    execute(connection, &sql, values).await.map(|_| ())
}

/// The condition of a job of one of `kinds` (placeholders from `$first`) that is due at the two
/// following placeholders: pending and scheduled, or running under a lease that has expired (its
/// replica died or hung).
fn due_condition(kinds: &[&str], first: usize) -> String {
    let kind_list: Vec<String> = (first..first + kinds.len()).map(|n| format!("${n}")).collect();
    let now = first + kinds.len();
    format!(
        "kind IN ({}) AND ((state = {} AND run_at <= ${now}) OR (state = {} AND lease_until <= ${}))",
        kind_list.join(", "),
        JobState::Pending as i16,
        JobState::Running as i16,
        now + 1
    )
}

/// Whether any job of `kinds` is due at `now`: a read, so an idle poll writes nothing.
pub(super) async fn any_due(
    connection: &impl ConnectionTrait,
    kinds: &[&str],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = format!("SELECT id FROM jobs WHERE {} LIMIT 1", due_condition(kinds, 1));
    let mut values: Vec<Value> = kinds.iter().map(|kind| Value::from(*kind)).collect();
    values.extend([Value::from(now), Value::from(now)]);
    let backend = connection.get_database_backend();
    let row =
        connection.query_one_raw(Statement::from_sql_and_values(backend, placeholders(backend, &sql), values)).await?;
    Ok(row.is_some())
}

/// Leases up to `limit` due jobs of `kinds` to `owner` until `lease_until`, counting an attempt for
/// each. Concurrent replicas on PostgreSQL skip each other's rows rather than wait for them.
pub(super) async fn lease(
    connection: &impl ConnectionTrait,
    owner: &str,
    kinds: &[&str],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<JobRecord>, DbErr> {
    let backend = connection.get_database_backend();
    let skip_locked = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let limit_number = 6 + kinds.len();
    let sql = format!(
        "UPDATE jobs SET state = {running}, lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
         updated_at = $3 WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT ${limit_number}{skip_locked}) \
         RETURNING {COLUMNS}",
        running = JobState::Running as i16,
        due = due_condition(kinds, 4),
    );
    let mut values: Vec<Value> = vec![owner.into(), lease_until.into(), now.into()];
    values.extend(kinds.iter().map(|kind| Value::from(*kind)));
    values.extend([Value::from(now), Value::from(now), Value::from(limit as i64)]);
    let rows =
        connection.query_all_raw(Statement::from_sql_and_values(backend, placeholders(backend, &sql), values)).await?;
    rows.iter().map(record).collect()
}

/// Marks job `id` succeeded, if `owner` still holds its lease; false when it lost it meanwhile.
pub(super) async fn succeed(
    connection: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = format!(
        "UPDATE jobs SET state = {}, last_error = '', lease_owner = '', lease_until = NULL, updated_at = $1 \
         WHERE id = $2 AND lease_owner = $3 AND state = {}",
        JobState::Succeeded as i16,
        JobState::Running as i16
    );
    let values = vec![now.into(), id.into(), owner.into()];
    Ok(execute(connection, &sql, values).await? == 1)
}

/// Records a failed attempt of job `id`, if `owner` still holds its lease: pending again at `run_at`,
/// or dead-lettered.
pub(super) async fn fail(
    connection: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    outcome: JobState,
    run_at: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sql = format!(
        "UPDATE jobs SET state = $1, run_at = $2, last_error = $3, lease_owner = '', lease_until = NULL, \
         updated_at = $4 WHERE id = $5 AND lease_owner = $6 AND state = {}",
        JobState::Running as i16
    );
    let values = vec![(outcome as i16).into(), run_at.into(), reason.into(), now.into(), id.into(), owner.into()];
    Ok(execute(connection, &sql, values).await? == 1)
}

/// Filters of a listing, validated.
#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
}

/// Jobs matching `filter` with an id below `before_id`, newest first, at most `limit`.
pub(super) async fn list(
    connection: &impl ConnectionTrait,
    filter: &Filter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<JobRecord>, DbErr> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(before_id) = before_id {
        values.push(before_id.into());
        conditions.push(format!("id < ${}", values.len()));
    }
    if let Some(state) = filter.state {
        values.push((state as i16).into());
        conditions.push(format!("state = ${}", values.len()));
    }
    if let Some(kind) = &filter.kind {
        values.push(kind.clone().into());
        conditions.push(format!("kind = ${}", values.len()));
    }
    values.push((limit as i64).into());
    let condition = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} FROM jobs {condition} ORDER BY id DESC LIMIT ${}", values.len());
    query(connection, &sql, values).await
}

/// Every job about `subject` (`dossiers/...`), oldest first: a resource's follow-ups and their states.
pub async fn for_subject(connection: &impl ConnectionTrait, subject: &str) -> Result<Vec<JobRecord>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE subject = $1 ORDER BY id");
    query(connection, &sql, vec![subject.into()]).await
}

/// Job `id`, if it exists.
pub(super) async fn find(connection: &impl ConnectionTrait, id: i64) -> Result<Option<JobRecord>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(query(connection, &sql, vec![id.into()]).await?.into_iter().next())
}

/// Brings dead-lettered job `id` back to pending with no attempts, due at `now`; false when it is not
/// dead-lettered.
pub(super) async fn revive(connection: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let sql = format!(
        "UPDATE jobs SET state = {}, attempts = 0, run_at = $1, updated_at = $2 WHERE id = $3 AND state = {}",
        JobState::Pending as i16,
        JobState::DeadLettered as i16
    );
    Ok(execute(connection, &sql, vec![now.into(), now.into(), id.into()]).await? == 1)
}

async fn execute(connection: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let backend = connection.get_database_backend();
    let result =
        connection.execute_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?;
    Ok(result.rows_affected())
}

async fn query(connection: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<Vec<JobRecord>, DbErr> {
    let backend = connection.get_database_backend();
    let rows =
        connection.query_all_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?;
    rows.iter().map(record).collect()
}

fn record(row: &QueryResult) -> Result<JobRecord, DbErr> {
    let state: i16 = row.try_get("", "state")?;
    Ok(JobRecord {
        id: row.try_get("", "id")?,
        kind: row.try_get("", "kind")?,
        subject: row.try_get("", "subject")?,
        payload: row.try_get("", "payload")?,
        request_id: row.try_get("", "request_id")?,
        traceparent: row.try_get("", "traceparent")?,
        state: JobState::from_code(i32::from(state))
            .ok_or_else(|| DbErr::Custom(format!("jobs: unknown state {state}")))?,
        attempts: row.try_get("", "attempts")?,
        run_at: row.try_get("", "run_at")?,
        last_error: row.try_get("", "last_error")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
    })
}
