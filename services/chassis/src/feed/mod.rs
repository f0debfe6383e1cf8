//! The event feed every service with events serves as `WatchEvents`: a transactional outbox written in
//! the same transaction as the change it describes, and a sequencer that numbers committed events.
//!
//! Why a sequencer: ids from concurrent transactions commit out of order, so a follower reading
//! "id > cursor" can pass an id whose transaction commits a moment later and miss it for ever. Here a
//! writer inserts its event with no sequence; the sequencer, one transaction at a time across every
//! replica (they serialise on the single `feed_head` row), gives the committed, unnumbered events the
//! next numbers. Sequences are therefore dense, assigned only to committed events, and visible in
//! order: a follower reading "sequence > cursor" never misses one.

mod events;
pub mod schema;
mod sequencer;
mod watch;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use tokio::sync::{Notify, watch as tokio_watch};

pub use events::FeedEvent;
pub use watch::FeedItem;

/// How many events one sequencer transaction numbers at most.
const SEQUENCE_BATCH: i64 = 1000;

/// An event to append, inside the caller's transaction.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// When the change happened, by the service's clock.
    pub occur_time: DateTime<Utc>,
    /// The resource it concerns, as a resource name (`dossiers/...`). Never personal data.
    pub subject: String,
    /// The request id of the mutation, if any.
    pub request_id: String,
    /// The payload's type, e.g. `dossier_created`, for filters and logs.
    pub event_type: String,
    /// The service's typed event, protobuf-encoded.
    pub payload: Vec<u8>,
}

/// An event as stored and numbered; read from a row by its column names.
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult)]
pub struct StoredEvent {
    /// Its place in the feed, from 1, dense.
    pub sequence: i64,
    /// A UUID, stable across replays.
    pub event_id: String,
    /// When it was appended.
    pub occur_time: DateTime<Utc>,
    /// The resource it concerns.
    pub subject: String,
    /// The request id of the mutation.
    pub request_id: String,
    /// The W3C traceparent of the request that appended it.
    pub traceparent: String,
    /// The payload's type.
    pub event_type: String,
    /// The typed event, protobuf-encoded.
    pub payload: Vec<u8>,
}

/// Appends `event` through `connection`, which should be the transaction that makes the change the
/// event describes: both commit, or neither. Call [`Feed::appended`] after the commit.
pub async fn append(connection: &impl ConnectionTrait, event: NewEvent) -> Result<(), DbErr> {
    let backend = connection.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "INSERT INTO events (event_id, occur_time, subject, request_id, traceparent, event_type, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    );
    let values: Vec<Value> = vec![
        uuid::Uuid::new_v4().to_string().into(),
        event.occur_time.into(),
        event.subject.into(),
        event.request_id.into(),
        crate::grpc_trace::current_traceparent().into(),
        event.event_type.into(),
        event.payload.into(),
    ];
    connection.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

/// Appends `events` in one statement through `connection`, as [`append`] appends one: for a batch of
/// calls committed together. Each event comes with the `traceparent` of the call it belongs to (from
/// [`crate::grpc_trace::current_traceparent`] in that call's handler), as the batch runs apart from them.
pub async fn append_many(connection: &impl ConnectionTrait, events: Vec<(NewEvent, String)>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let backend = connection.get_database_backend();
    let mut rows = Vec::with_capacity(events.len());
    let mut values: Vec<Value> = Vec::with_capacity(events.len() * 7);
    for (index, (event, traceparent)) in events.into_iter().enumerate() {
        let base = index * 7;
        rows.push(format!("({})", (base + 1..=base + 7).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")));
        values.extend([
            uuid::Uuid::new_v4().to_string().into(),
            event.occur_time.into(),
            event.subject.into(),
            event.request_id.into(),
            traceparent.into(),
            event.event_type.into(),
            event.payload.into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO events (event_id, occur_time, subject, request_id, traceparent, event_type, payload) VALUES {}",
        rows.join(", ")
    );
    connection
        .execute_raw(Statement::from_sql_and_values(backend, crate::db::placeholders(backend, &sql), values))
        .await?;
    Ok(())
}

/// A service's feed: the sequencer running in the background, and followers served from it. Cheap to
/// clone; the sequencer stops when the last clone is dropped.
#[derive(Clone)]
pub struct Feed {
    shared: Arc<Shared>,
}

struct Shared {
    db: DatabaseConnection,
    /// Wakes the sequencer when a writer of this replica has committed an event.
    appended: Arc<Notify>,
    /// The head as this replica last numbered it; followers wait on it.
    head: tokio_watch::Sender<i64>,
}

impl Feed {
    /// Starts the sequencer of the feed in `db`, whose schema [`schema::create_tables`] made.
    pub async fn start(db: DatabaseConnection) -> Result<Self, DbErr> {
        let head = sequencer::read_head(&db).await?;
        let appended = Arc::new(Notify::new());
        let shared = Arc::new(Shared { db, appended: appended.clone(), head: tokio_watch::channel(head).0 });
        tokio::spawn(sequencer::run(Arc::downgrade(&shared), appended));
        Ok(Self { shared })
    }

    /// Tells the sequencer that an event was committed, so it numbers it now rather than at its next
    /// poll.
    pub fn appended(&self) {
        self.shared.appended.notify_one();
    }

    /// The highest sequence numbered so far, as this replica knows it.
    pub fn head(&self) -> i64 {
        *self.shared.head.borrow()
    }

    /// Every event after `after_sequence`, then each new one as it is numbered, with a heartbeat
    /// carrying the head at least once a second while there is nothing new. Ends when the receiver
    /// is dropped.
    pub fn watch(&self, after_sequence: i64) -> tokio_stream::wrappers::ReceiverStream<Result<FeedItem, DbErr>> {
        watch::spawn(self.shared.db.clone(), self.shared.head.subscribe(), after_sequence)
    }

    /// Numbers every committed, unnumbered event now; returns how many. For tests and shutdown.
    pub async fn sequence_now(&self) -> Result<u64, DbErr> {
        let numbered = sequencer::sequence_pending(&self.shared.db).await?;
        if let Some(head) = numbered.head {
            self.shared.head.send_replace(head);
        }
        Ok(numbered.count)
    }
}
