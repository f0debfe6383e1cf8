//! The feed cursors, each with the lease of the one follower (across replicas) that may move it. A
//! follower applies a batch only if the cursor is still where it read it and the lease still its own,
//! in the transaction that updates the rollups: each event counts exactly once.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};

use super::{execute, query};

/// One feed's stored state; read from a row by its column names.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CursorRow {
    pub feed: String,
    pub cursor: i64,
    pub holder: String,
    pub lease_until_ms: i64,
    pub head: i64,
    pub last_event_ms: Option<i64>,
    pub last_apply_ms: Option<i64>,
    pub last_error: String,
}

/// Takes or renews the lease of `feed` for `holder` until `until_ms`, if it is free, expired or
/// already `holder`'s; returns the cursor when it is now `holder`'s.
pub async fn try_lease(
    db: &impl ConnectionTrait,
    feed: &str,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<Option<i64>, DbErr> {
    let taken = execute(
        db,
        "UPDATE feed_cursors SET holder = $1, lease_until_ms = $2 \
         WHERE feed = $3 AND (holder = $4 OR holder = '' OR lease_until_ms < $5)",
        vec![holder.into(), until_ms.into(), feed.into(), holder.into(), now_ms.into()],
    )
    .await?;
    if taken == 0 {
        return Ok(None);
    }
    let row = read(db, feed).await?;
    Ok(row.filter(|row| row.holder == holder).map(|row| row.cursor))
}

/// Renews `holder`'s lease and records the source's head; false when the lease is no longer its own.
pub async fn renew(
    db: &impl ConnectionTrait,
    feed: &str,
    holder: &str,
    until_ms: i64,
    head: i64,
) -> Result<bool, DbErr> {
    Ok(execute(
        db,
        "UPDATE feed_cursors SET lease_until_ms = $1, head = CASE WHEN head > $2 THEN head ELSE $3 END \
         WHERE feed = $4 AND holder = $5",
        vec![until_ms.into(), head.into(), head.into(), feed.into(), holder.into()],
    )
    .await?
        == 1)
}

/// A cursor move: from where the follower read it to the last sequence of its batch.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub from: i64,
    pub to: i64,
    /// The lease's new end.
    pub until_ms: i64,
    /// The commit time of the batch's last event.
    pub last_event_ms: i64,
    pub now_ms: i64,
}

/// Moves the cursor of `feed` inside the caller's transaction, if `holder` still holds the lease and
/// nobody moved it; false otherwise (the caller must roll back).
pub async fn advance(transaction: &impl ConnectionTrait, feed: &str, holder: &str, step: Move) -> Result<bool, DbErr> {
    Ok(execute(
        transaction,
        "UPDATE feed_cursors SET cursor = $1, lease_until_ms = $2, last_event_ms = $3, last_apply_ms = $4, \
         head = CASE WHEN head > $5 THEN head ELSE $6 END, last_error = '' \
         WHERE feed = $7 AND cursor = $8 AND holder = $9",
        vec![
            step.to.into(),
            step.until_ms.into(),
            step.last_event_ms.into(),
            step.now_ms.into(),
            step.to.into(),
            step.to.into(),
            feed.into(),
            step.from.into(),
            holder.into(),
        ],
    )
    .await?
        == 1)
}

/// Records why the follower of `feed` could not go on (a reason code, never personal data).
pub async fn record_error(db: &impl ConnectionTrait, feed: &str, holder: &str, reason: &str) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE feed_cursors SET last_error = $1 WHERE feed = $2 AND holder = $3",
        vec![reason.into(), feed.into(), holder.into()],
    )
    .await?;
    Ok(())
}

/// Gives up `holder`'s leases on every feed; returns how many it held.
pub async fn release(db: &impl ConnectionTrait, holder: &str) -> Result<u64, DbErr> {
    execute(db, "UPDATE feed_cursors SET holder = '', lease_until_ms = 0 WHERE holder = $1", vec![holder.into()]).await
}

/// Renews every lease `holder` holds until `until_ms`; returns how many it holds.
pub async fn renew_all(db: &impl ConnectionTrait, holder: &str, until_ms: i64) -> Result<u64, DbErr> {
    execute(db, "UPDATE feed_cursors SET lease_until_ms = $1 WHERE holder = $2", vec![until_ms.into(), holder.into()])
        .await
}

/// Takes every feed's lease for `holder`, whoever held it: a rebuild freezes the live followers so
/// that their cursors stay where it reads them.
pub async fn seize_all(db: &impl ConnectionTrait, holder: &str, until_ms: i64) -> Result<(), DbErr> {
    execute(db, "UPDATE feed_cursors SET holder = $1, lease_until_ms = $2", vec![holder.into(), until_ms.into()])
        .await?;
    Ok(())
}

/// One feed's row.
pub async fn read(db: &impl ConnectionTrait, feed: &str) -> Result<Option<CursorRow>, DbErr> {
    Ok(read_all(db).await?.into_iter().find(|row| row.feed == feed))
}

/// Every feed's row, by feed name.
pub async fn read_all(db: &impl ConnectionTrait) -> Result<Vec<CursorRow>, DbErr> {
    let rows = query(
        db,
        "SELECT feed, cursor, holder, lease_until_ms, head, last_event_ms, last_apply_ms, last_error FROM feed_cursors ORDER BY feed",
        Vec::<Value>::new(),
    )
    .await?;
    rows.iter().map(|row| CursorRow::from_query_result(row, "")).collect()
}
