//! The sequencer: numbers committed events in one transaction at a time. Every replica runs one; they
//! serialise on the `feed_head` row, so numbers are dense and each batch becomes visible whole, in
//! order.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use tokio::sync::Notify;

use super::{SEQUENCE_BATCH, Shared};
use crate::db::placeholders;

/// How often the sequencer looks for events appended by other replicas, whose commits it is not told
/// about.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What one sequencing pass did.
pub(super) struct Numbered {
    /// How many events it numbered.
    pub count: u64,
    /// The head after it, when it numbered any.
    pub head: Option<i64>,
}

/// Runs until the feed is dropped: numbers events whenever a writer says it appended one, and every
/// poll interval otherwise.
pub(super) async fn run(shared: Weak<Shared>, appended: Arc<Notify>) {
    loop {
        let Some(feed) = shared.upgrade() else { return };
        loop {
            match sequence_pending(&feed.db).await {
                Ok(Numbered { head: Some(head), count }) => {
                    feed.head.send_replace(head);
                    if count < SEQUENCE_BATCH as u64 {
                        break;
                    }
                }
                Ok(Numbered { head: None, .. }) => {
                    // Another replica may have numbered events: followers here must hear of them too.
                    if let Ok(head) = read_head(&feed.db).await {
                        feed.head.send_if_modified(|known| std::mem::replace(known, head) != head);
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "numbering feed events failed; retrying");
                    break;
                }
            }
        }
        // Hold no strong reference while asleep, so dropping the feed stops the sequencer.
        drop(feed);
        let _ = tokio::time::timeout(POLL_INTERVAL, appended.notified()).await;
    }
}

/// Reads the head: the highest sequence numbered.
pub(super) async fn read_head(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT head FROM feed_head WHERE id = 1"))
        .await?
        .ok_or_else(|| DbErr::Custom("feed_head has no row: the feed's migration has not run".to_owned()))?;
    row.try_get("", "head")
}

/// Numbers up to one batch of committed, unnumbered events, in id order, after the head.
pub(super) async fn sequence_pending(db: &DatabaseConnection) -> Result<Numbered, DbErr> {
    let backend = db.get_database_backend();
    let transaction = crate::db::begin_write(db).await?;
    // Taking the row first makes this transaction the only sequencer until it commits: a row lock on
    // PostgreSQL, the database write lock on SQLite.
    transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE feed_head SET updated_at = $1 WHERE id = 1"),
            [Value::from(crate::clock::Clock::system().now())],
        ))
        .await?;
    let head = read_head(&transaction).await?;
    let numbered = transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "WITH pending AS (\
                   SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS position FROM events \
                   WHERE sequence IS NULL ORDER BY id LIMIT $1) \
                 UPDATE events SET sequence = $2 + pending.position FROM pending WHERE events.id = pending.id",
            ),
            [Value::from(SEQUENCE_BATCH), Value::from(head)],
        ))
        .await?
        .rows_affected();
    if numbered == 0 {
        // Nothing to number: roll back rather than write the head for nothing.
        transaction.rollback().await?;
        return Ok(Numbered { count: 0, head: None });
    }
    let new_head = head + numbered as i64;
    transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE feed_head SET head = $1 WHERE id = 1"),
            [Value::from(new_head)],
        ))
        .await?;
    transaction.commit().await?;
    Ok(Numbered { count: numbered, head: Some(new_head) })
}
