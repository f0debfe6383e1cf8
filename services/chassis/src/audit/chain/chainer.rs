//! The chainer: chains committed records in one transaction at a time. Every replica runs one; they
//! serialise on the `audit_chain_head` row (a row lock on PostgreSQL, the write lock on SQLite), so
//! positions are dense and each batch becomes visible whole. Mutations never wait for it.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use tokio::sync::Notify;

use super::{load_records, next_hash, read_head};
use crate::db::placeholders;

/// The most records one transaction chains.
const BATCH: i64 = 500;
/// How often the chainer looks for records to chain.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Between full passes, only records whose id is at most this far below the highest chained one are
/// looked for: a record that commits later than that many younger ones is found by the next full pass.
const LOOKBACK: i64 = 100_000;
/// Every this many polls, the chainer looks at the whole trail for unchained records.
const FULL_PASS_EVERY: u32 = 300;
/// A look-back that covers the whole trail.
const EVERYTHING: i64 = i64::MAX / 4;
/// How many chain rows one INSERT writes.
const ROWS_PER_STATEMENT: usize = 100;

/// What one chaining pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained {
    /// How many records it chained.
    pub count: u64,
    /// The head's position after it.
    pub position: i64,
}

/// A service's chainer running in the background; it stops when this is dropped.
pub struct Chainer {
    db: DatabaseConnection,
    wake: Arc<Notify>,
    /// The task holds a weak reference: once this is gone, it stops.
    _alive: Arc<()>,
}

impl Chainer {
    /// Starts chaining the trail in `db`, whose migrations ran [`crate::audit::schema::create_chain_tables`].
    pub fn start(db: DatabaseConnection) -> Self {
        let (alive, wake) = (Arc::new(()), Arc::new(Notify::new()));
        tokio::spawn(run(db.clone(), Arc::downgrade(&alive), wake.clone()));
        Self { db, wake, _alive: alive }
    }

    /// Chains every record committed so far, now (for tests, and before a shutdown).
    pub async fn chain_all(&self) -> Result<Chained, DbErr> {
        chain_all(&self.db).await
    }

    /// Asks the background task for a pass now rather than at its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs until the chainer is dropped.
async fn run(db: DatabaseConnection, alive: Weak<()>, wake: Arc<Notify>) {
    let mut polls: u32 = 0;
    while alive.strong_count() > 0 {
        // The first pass, and every so often, looks at the whole trail.
        let lookback = if polls % FULL_PASS_EVERY == 0 { EVERYTHING } else { LOOKBACK };
        polls = polls.wrapping_add(1);
        loop {
            match chain_pending(&db, BATCH, lookback).await {
                Ok(chained) if chained.count == BATCH as u64 && alive.strong_count() > 0 => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "chaining audit records failed; retrying");
                    break;
                }
            }
        }
        let _ = tokio::time::timeout(POLL_INTERVAL, wake.notified()).await;
    }
}

/// Chains committed records until none is left; what it chained in all.
pub async fn chain_all(db: &DatabaseConnection) -> Result<Chained, DbErr> {
    let mut total = 0;
    loop {
        let chained = chain_pending(db, BATCH, EVERYTHING).await?;
        total += chained.count;
        if chained.count < BATCH as u64 {
            return Ok(Chained { count: total, position: chained.position });
        }
    }
}

/// The ids of up to `limit` committed records without a chain row, in id order, among those whose id
/// is above the highest chained one less `lookback`.
async fn pending_ids(db: &impl ConnectionTrait, limit: i64, lookback: i64) -> Result<Vec<i64>, DbErr> {
    let backend = db.get_database_backend();
    let sql = placeholders(
        backend,
        "SELECT r.id FROM audit_records r \
         WHERE r.id > (SELECT COALESCE(MAX(record_id), 0) FROM audit_chain) - $1 \
         AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.record_id = r.id) \
         ORDER BY r.id LIMIT $2",
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [Value::from(lookback), Value::from(limit)]))
        .await?;
    rows.iter().map(|row| row.try_get::<i64>("", "id")).collect()
}

/// Chains up to `limit` committed, unchained records (see [`pending_ids`] for `lookback`) after the
/// head, in one transaction.
pub async fn chain_pending(db: &DatabaseConnection, limit: i64, lookback: i64) -> Result<Chained, DbErr> {
    // A look without the lock first: most polls find nothing, and on SQLite the lock stops every writer.
    if pending_ids(db, 1, lookback).await?.is_empty() {
        let (position, _) = read_head(db).await?;
        return Ok(Chained { count: 0, position });
    }
    let backend = db.get_database_backend();
    let transaction = crate::db::begin_write(db).await?;
    // Taking the head row first makes this transaction the only chainer until it commits.
    transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE audit_chain_head SET updated_at = $1 WHERE id = 1"),
            [Value::from(crate::clock::Clock::system().now())],
        ))
        .await?;
    let (head_position, head_hash) = read_head(&transaction).await?;
    let ids = pending_ids(&transaction, limit, lookback).await?;
    if ids.is_empty() {
        transaction.rollback().await?;
        return Ok(Chained { count: 0, position: head_position });
    }
    let mut hash: [u8; 32] = head_hash
        .as_slice()
        .try_into()
        .map_err(|_| DbErr::Custom(format!("audit_chain_head holds a {}-byte hash; expected 32", head_hash.len())))?;
    let records = load_records(&transaction, &ids).await?;
    let mut rows: Vec<(i64, i64, Vec<u8>)> = Vec::with_capacity(ids.len());
    for (offset, id) in ids.iter().enumerate() {
        let record =
            records.get(id).ok_or_else(|| DbErr::Custom(format!("audit record {id} vanished while being chained")))?;
        hash = next_hash(&hash, record);
        rows.push((*id, head_position + offset as i64 + 1, hash.to_vec()));
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let list = (0..chunk.len())
            .map(|row| format!("(${}, ${}, ${})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            placeholders(backend, &format!("INSERT INTO audit_chain (record_id, position, chain_hash) VALUES {list}"));
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|(id, position, hash)| [Value::from(*id), Value::from(*position), Value::from(hash.clone())])
            .collect();
        transaction.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    let position = head_position + rows.len() as i64;
    transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE audit_chain_head SET position = $1, chain_hash = $2 WHERE id = 1"),
            [Value::from(position), Value::from(hash.to_vec())],
        ))
        .await?;
    transaction.commit().await?;
    Ok(Chained { count: rows.len() as u64, position })
}
