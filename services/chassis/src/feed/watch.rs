//! A follower of the feed: replays the events after its cursor, then follows new ones as the
//! sequencer numbers them, with heartbeats while idle so a consumer knows the head and that the
//! stream is alive.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Statement, Value};
use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};
use tokio_stream::wrappers::ReceiverStream;

use super::{StoredEvent, sequencer::read_head};
use crate::db::placeholders;

/// Events read per query while replaying.
const PAGE: i64 = 500;
/// The longest a follower stays silent.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Events a slow consumer may have pending before the follower waits for it.
const BUFFER: usize = 256;

/// What a follower yields.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// The next event.
    Event(StoredEvent),
    /// Nothing new: the head and the time, at least once a second while idle.
    Heartbeat {
        /// The highest sequence numbered.
        head: i64,
        /// When the heartbeat was sent.
        time: DateTime<Utc>,
    },
}

pub(super) fn spawn(
    db: DatabaseConnection,
    mut head: watch::Receiver<i64>,
    after_sequence: i64,
) -> ReceiverStream<Result<FeedItem, DbErr>> {
    let (sender, receiver) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut cursor = after_sequence;
        let mut last_sent = Instant::now();
        loop {
            match read_after(&db, cursor).await {
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
                Ok(events) if !events.is_empty() => {
                    for event in events {
                        cursor = event.sequence;
                        if sender.send(Ok(FeedItem::Event(event))).await.is_err() {
                            return;
                        }
                    }
                    last_sent = Instant::now();
                    continue;
                }
                Ok(_) => {}
            }
            let heartbeat_due = last_sent + HEARTBEAT_INTERVAL;
            tokio::select! {
                changed = head.changed() => {
                    // The feed was dropped: the service is stopping.
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep_until(heartbeat_due) => {
                    let item = read_head(&db).await.map(|head| FeedItem::Heartbeat { head, time: crate::clock::Clock::system().now() });
                    if sender.send(item).await.is_err() {
                        return;
                    }
                    last_sent = Instant::now();
                }
                () = sender.closed() => return,
            }
        }
    });
    ReceiverStream::new(receiver)
}

async fn read_after(db: &DatabaseConnection, cursor: i64) -> Result<Vec<StoredEvent>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "SELECT sequence, event_id, occur_time, subject, request_id, traceparent, event_type, payload \
                 FROM events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
            ),
            [Value::from(cursor), Value::from(PAGE)],
        ))
        .await?;
    rows.iter().map(|row| StoredEvent::from_query_result(row, "")).collect()
}
