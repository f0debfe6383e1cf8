//! The rebuilds of the projections: one row each, found again by its request id.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};

use super::{execute, query};

/// The proto's `RebuildState` numbers.
pub mod state {
    pub const RUNNING: i32 = 1;
    pub const SUCCEEDED: i32 = 2;
    pub const FAILED: i32 = 3;
}

/// A rebuild as stored; read from a row by its column names.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RebuildRow {
    pub rebuild_id: String,
    pub request_id: String,
    pub state: i32,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub heartbeat_ms: i64,
    pub events_applied: i64,
    pub error_reason: String,
}

const COLUMNS: &str = "rebuild_id, request_id, state, start_ms, end_ms, heartbeat_ms, events_applied, error_reason";

fn rows(results: Vec<sea_orm::QueryResult>) -> Result<Vec<RebuildRow>, DbErr> {
    results.iter().map(|row| RebuildRow::from_query_result(row, "")).collect()
}

/// The rebuild started by `request_id`, if any.
pub async fn by_request(db: &impl ConnectionTrait, request_id: &str) -> Result<Option<RebuildRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM rebuilds WHERE request_id = $1");
    Ok(rows(query(db, &sql, vec![request_id.into()]).await?)?.into_iter().next())
}

/// The latest rebuild, if any.
pub async fn latest(db: &impl ConnectionTrait) -> Result<Option<RebuildRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM rebuilds ORDER BY start_ms DESC, rebuild_id DESC LIMIT 1");
    Ok(rows(query(db, &sql, Vec::<Value>::new()).await?)?.into_iter().next())
}

/// Marks as failed every running rebuild whose task has not been heard of since `stale_before_ms`
/// (its replica stopped or crashed).
pub async fn abandon_stale(db: &impl ConnectionTrait, stale_before_ms: i64, now_ms: i64) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE rebuilds SET state = $1, end_ms = $2, error_reason = 'REBUILD_ABANDONED', running_guard = NULL \
         WHERE state = $3 AND heartbeat_ms < $4",
        vec![state::FAILED.into(), now_ms.into(), state::RUNNING.into(), stale_before_ms.into()],
    )
    .await?;
    Ok(())
}

/// Whether a rebuild is running.
pub async fn running(db: &impl ConnectionTrait) -> Result<Option<RebuildRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM rebuilds WHERE state = $1");
    Ok(rows(query(db, &sql, vec![state::RUNNING.into()]).await?)?.into_iter().next())
}

/// Records a new running rebuild; fails on the unique `running_guard` while another one runs.
pub async fn insert(db: &impl ConnectionTrait, rebuild_id: &str, request_id: &str, now_ms: i64) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO rebuilds (rebuild_id, request_id, state, start_ms, heartbeat_ms, events_applied, error_reason, running_guard) \
         VALUES ($1, $2, $3, $4, $5, 0, '', 1)",
        vec![rebuild_id.into(), request_id.into(), state::RUNNING.into(), now_ms.into(), now_ms.into()],
    )
    .await?;
    Ok(())
}

/// Counts `applied` more events for a running rebuild; false when it is no longer running.
pub async fn progress(db: &impl ConnectionTrait, rebuild_id: &str, applied: i64, now_ms: i64) -> Result<bool, DbErr> {
    Ok(execute(
        db,
        "UPDATE rebuilds SET events_applied = events_applied + $1, heartbeat_ms = $2 WHERE rebuild_id = $3 AND state = $4",
        vec![applied.into(), now_ms.into(), rebuild_id.into(), state::RUNNING.into()],
    )
    .await?
        == 1)
}

/// Ends a rebuild as `final_state`, with `error_reason` when it failed.
pub async fn finish(
    db: &impl ConnectionTrait,
    rebuild_id: &str,
    final_state: i32,
    error_reason: &str,
    now_ms: i64,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE rebuilds SET state = $1, end_ms = $2, error_reason = $3, running_guard = NULL WHERE rebuild_id = $4",
        vec![final_state.into(), now_ms.into(), error_reason.into(), rebuild_id.into()],
    )
    .await?;
    Ok(())
}
