//! Background work: one follower per feed, and the rebuild. A follower holds its feed's lease (one
//! active follower per feed across replicas; the others stand by), streams the feed from its stored
//! cursor, and applies each batch of events with the cursor move in one transaction, so that every
//! event counts exactly once across restarts, crashes and duplicate deliveries. A source that is down
//! is retried with backoff. The tasks hold only a weak reference to the service's state: dropping the
//! service stops them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use futures::StreamExt;
use motcua_proto::motcua::reporting::v1 as pb;
use sea_orm::{DatabaseConnection, DbErr};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    domain::projection::FeedEvent,
    feeds::{FeedMessage, FeedName, FeedStream, Sources},
    store::{self, cursors, rebuilds},
};

/// The number of feeds, each with its cursor row.
const FEEDS: u64 = FeedName::ALL.len() as u64;
/// How long a lease lasts without renewal.
const LEASE_MS: i64 = 10_000;
/// A rebuild's lease over every feed; renewed with each of its batches.
const REBUILD_LEASE_MS: i64 = 60_000;
/// How long a follower waits for the next event before it renews its lease anyway.
const RENEW_INTERVAL: Duration = Duration::from_secs(2);
/// How often a standby follower tries for the lease.
const STANDBY_POLL: Duration = Duration::from_secs(3);
/// Events applied in one transaction at most.
const BATCH: usize = 500;
/// The most producers' traces one batch's span links to: enough to follow a filing, bounded for a
/// batch of hundreds.
const MAX_LINKS: usize = 32;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A follower's state in this replica, for the ingestion status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerStatus {
    pub state: pb::FollowerState,
    /// The source's head as last heard.
    pub head: i64,
    pub last_error: String,
}

/// What the jobs share with the handlers.
pub struct Jobs {
    pub db: DatabaseConnection,
    pub sources: Sources,
    /// This replica's name in the leases.
    pub holder: String,
    pub status: Mutex<HashMap<FeedName, FollowerStatus>>,
    /// The followers, aborted when the service is dropped.
    pub tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Jobs {
    fn set(&self, feed: FeedName, state: pb::FollowerState, head: Option<i64>, error: Option<&str>) {
        if let Ok(mut status) = self.status.lock() {
            let entry = status.entry(feed).or_insert(FollowerStatus { state, head: 0, last_error: String::new() });
            entry.state = state;
            if let Some(head) = head {
                entry.head = entry.head.max(head);
            }
            if let Some(error) = error {
                entry.last_error = error.to_owned();
            }
        }
    }

    /// This replica's view of `feed`'s follower.
    pub fn follower(&self, feed: FeedName) -> FollowerStatus {
        self.status.lock().ok().and_then(|status| status.get(&feed).cloned()).unwrap_or(FollowerStatus {
            state: pb::FollowerState::Unspecified,
            head: 0,
            last_error: String::new(),
        })
    }
}

/// Now, in milliseconds, on the system clock: leases are shared between replicas, each on its real clock,
/// so a test's manual clock (which moves report days) must not freeze or jump them.
pub(crate) fn now_ms() -> i64 {
    motcua_chassis::clock::Clock::system().now().timestamp_millis()
}

/// Starts the three followers; they are aborted when `jobs` is dropped.
pub fn spawn_followers(jobs: &Arc<Jobs>) {
    for feed in FeedName::ALL {
        let handle = tokio::spawn(follow(Arc::downgrade(jobs), feed));
        if let Ok(mut tasks) = jobs.tasks.lock() {
            tasks.push(handle.abort_handle());
        }
    }
}

impl Drop for Jobs {
    /// The service is gone: its followers stop where they are (an open transaction rolls back, as in a
    /// crash), and its leases are given up so that a restarted replica need not wait for them to expire.
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            tasks.iter().for_each(tokio::task::AbortHandle::abort);
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (db, holder) = (self.db.clone(), self.holder.clone());
            runtime.spawn(async move {
                let _ = cursors::release(&db, &holder).await;
            });
        }
    }
}

/// Why a follower's pass ended.
enum Stop {
    /// The service was dropped.
    Gone,
    /// The lease went to someone else (another replica, or a rebuild).
    LeaseLost,
    /// The source or the database failed: retry after a backoff.
    Failed(&'static str),
}

async fn follow(jobs: Weak<Jobs>, feed: FeedName) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let stop = follow_once(&jobs, feed).await;
        let Some(strong) = jobs.upgrade() else { return };
        let wait = match stop {
            Stop::Gone => return,
            Stop::LeaseLost => {
                strong.set(feed, pb::FollowerState::Standby, None, None);
                backoff = FIRST_BACKOFF;
                STANDBY_POLL
            }
            Stop::Failed(reason) => {
                strong.set(feed, pb::FollowerState::Reconnecting, None, Some(reason));
                let _ = cursors::record_error(&strong.db, feed.as_str(), &strong.holder, reason).await;
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        drop(strong);
        tokio::time::sleep(wait).await;
    }
}

/// Follows `feed` while this replica holds its lease. Holds the service's state only while it uses it.
async fn follow_once(weak: &Weak<Jobs>, feed: FeedName) -> Stop {
    let name = feed.as_str();
    let Some(jobs) = weak.upgrade() else { return Stop::Gone };
    let mut cursor = match cursors::try_lease(&jobs.db, name, &jobs.holder, now_ms(), now_ms() + LEASE_MS).await {
        Ok(Some(cursor)) => cursor,
        Ok(None) => return Stop::LeaseLost,
        Err(error) => {
            tracing::warn!(feed = name, %error, "reporting cannot read its cursor");
            return Stop::Failed("DATABASE_UNAVAILABLE");
        }
    };
    let mut stream = match jobs.sources.watch(feed, cursor).await {
        Ok(stream) => stream,
        Err(status) => {
            tracing::info!(feed = name, code = ?status.code(), "the feed's source is unreachable; retrying");
            return Stop::Failed("SOURCE_UNAVAILABLE");
        }
    };
    jobs.set(feed, pb::FollowerState::CatchingUp, None, Some(""));
    drop(jobs);
    let mut head = 0;
    loop {
        let batch = match next_batch(&mut stream, &mut head).await {
            Ok(batch) => batch,
            Err(reason) => return Stop::Failed(reason),
        };
        let Some(jobs) = weak.upgrade() else { return Stop::Gone };
        let state = if batch.last_sequence.is_some_and(|last| last < head) {
            pb::FollowerState::CatchingUp
        } else {
            pb::FollowerState::Following
        };
        jobs.set(feed, state, Some(head), None);
        let Some(last_sequence) = batch.last_sequence else {
            match cursors::renew(&jobs.db, name, &jobs.holder, now_ms() + LEASE_MS, head).await {
                Ok(true) => continue,
                Ok(false) => return Stop::LeaseLost,
                Err(_) => return Stop::Failed("DATABASE_UNAVAILABLE"),
            }
        };
        if batch.first_sequence != Some(cursor + 1) {
            tracing::warn!(feed = name, cursor, first = ?batch.first_sequence, "the feed skipped or repeated a sequence; reconnecting");
            return Stop::Failed("SEQUENCE_GAP");
        }
        let events: Vec<FeedEvent> = batch.events.into_iter().map(|(_, event)| event).collect();
        // A batch of events is the follower's work, one span each; an idle feed's renewals make none.
        let span = tracing::info_span!("reporting.apply_feed", feed = name, events = events.len());
        // Linked to the requests that produced the events, so an SRE goes from a filing to its counting.
        for cause in batch.causes.iter().filter_map(|cause| motcua_chassis::grpc_trace::span_context_of(cause)) {
            span.add_link(cause);
        }
        match apply_live(&jobs, feed, cursor, last_sequence, batch.last_occur_ms, events).instrument(span).await {
            Ok(true) => cursor = last_sequence,
            Ok(false) => return Stop::LeaseLost,
            Err(error) => {
                tracing::warn!(feed = name, %error, "reporting could not apply a batch; retrying from its cursor");
                return Stop::Failed("DATABASE_UNAVAILABLE");
            }
        }
    }
}

/// Events read from a stream, ready to apply.
#[derive(Default)]
struct Batch {
    /// The distinct traceparents of the events' producers, at most [`MAX_LINKS`].
    causes: Vec<String>,
    first_sequence: Option<i64>,
    last_sequence: Option<i64>,
    last_occur_ms: i64,
    /// The events that count, with their sequences.
    events: Vec<(i64, FeedEvent)>,
}

/// Waits up to [`RENEW_INTERVAL`] for a first event, then takes whatever else is ready, up to
/// [`BATCH`]. Heartbeats update `head`.
async fn next_batch(stream: &mut FeedStream, head: &mut i64) -> Result<Batch, &'static str> {
    let mut batch = Batch::default();
    let deadline = tokio::time::Instant::now() + RENEW_INTERVAL;
    let mut count = 0;
    while count < BATCH {
        let item = if count == 0 {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(item) => item,
                Err(_) => break,
            }
        } else {
            match futures::FutureExt::now_or_never(stream.next()) {
                Some(item) => item,
                None => break,
            }
        };
        match item {
            None => return if count > 0 { Ok(batch) } else { Err("SOURCE_CLOSED") },
            Some(Err(_)) => return if count > 0 { Ok(batch) } else { Err("SOURCE_UNAVAILABLE") },
            Some(Ok(FeedMessage::Heartbeat { head: source_head })) => {
                *head = (*head).max(source_head);
                if count == 0 {
                    break;
                }
            }
            Some(Ok(FeedMessage::Event { sequence, occur_time, traceparent, event })) => {
                if batch.causes.len() < MAX_LINKS && !traceparent.is_empty() && !batch.causes.contains(&traceparent) {
                    batch.causes.push(traceparent);
                }
                batch.first_sequence.get_or_insert(sequence);
                batch.last_sequence = Some(sequence);
                batch.last_occur_ms = occur_time.timestamp_millis();
                *head = (*head).max(sequence);
                batch.events.extend(event.map(|event| (sequence, event)));
                count += 1;
            }
        }
    }
    Ok(batch)
}

/// Applies a batch to the live rollups with the cursor move from `from` to `to`; false when the lease
/// or the cursor is no longer this follower's (nothing is applied then).
async fn apply_live(
    jobs: &Jobs,
    feed: FeedName,
    from: i64,
    to: i64,
    last_occur_ms: i64,
    events: Vec<FeedEvent>,
) -> Result<bool, DbErr> {
    let transaction = motcua_chassis::db::begin_write(&jobs.db).await?;
    let now = now_ms();
    // First, so that on PostgreSQL the cursor row's lock orders competing appliers.
    let step = cursors::Move { from, to, until_ms: now + LEASE_MS, last_event_ms: last_occur_ms, now_ms: now };
    if !cursors::advance(&transaction, feed.as_str(), &jobs.holder, step).await? {
        transaction.rollback().await?;
        return Ok(false);
    }
    store::rollups::apply(&transaction, store::LIVE, &events).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Runs rebuild `rebuild_id`: freezes the live followers by taking their leases, replays every feed
/// from its start up to the frozen cursors into the shadow tables, and swaps them in, in one
/// transaction; the followers then go on from where they stood.
pub async fn rebuild(jobs: Arc<Jobs>, rebuild_id: String) {
    let holder = format!("rebuild:{rebuild_id}");
    let result = run_rebuild(&jobs, &rebuild_id, &holder).await;
    let (final_state, reason) = match &result {
        Ok(()) => (rebuilds::state::SUCCEEDED, ""),
        Err(reason) => (rebuilds::state::FAILED, *reason),
    };
    if result.is_err() {
        let _ = store::rollups::clear_shadow(&jobs.db).await;
        let _ = cursors::release(&jobs.db, &holder).await;
    }
    if let Err(error) = rebuilds::finish(&jobs.db, &rebuild_id, final_state, reason, now_ms()).await {
        tracing::warn!(%error, rebuild_id, "the rebuild's end could not be recorded");
    }
    tracing::info!(rebuild_id, reason, "rebuild finished");
}

async fn run_rebuild(jobs: &Jobs, rebuild_id: &str, holder: &str) -> Result<(), &'static str> {
    let db = &jobs.db;
    let database = |_: DbErr| "DATABASE_UNAVAILABLE";
    cursors::seize_all(db, holder, now_ms() + REBUILD_LEASE_MS).await.map_err(database)?;
    store::rollups::clear_shadow(db).await.map_err(database)?;
    let frozen = cursors::read_all(db).await.map_err(database)?;
    for row in frozen {
        let Some(feed) = FeedName::ALL.into_iter().find(|feed| feed.as_str() == row.feed) else { continue };
        let target = row.cursor;
        if target == 0 {
            continue;
        }
        let mut stream = jobs.sources.watch(feed, 0).await.map_err(|_| "SOURCE_UNAVAILABLE")?;
        let (mut cursor, mut head) = (0, 0);
        while cursor < target {
            let batch = next_batch(&mut stream, &mut head).await?;
            let Some(last) = batch.last_sequence else {
                if head > 0 && head < target {
                    return Err("SOURCE_BEHIND_CURSOR");
                }
                continue;
            };
            if batch.first_sequence != Some(cursor + 1) {
                return Err("SEQUENCE_GAP");
            }
            // Only up to the frozen cursor: what lies beyond is the followers' to apply after the swap.
            let events: Vec<FeedEvent> =
                batch.events.into_iter().filter(|(sequence, _)| *sequence <= target).map(|(_, event)| event).collect();
            let reached = last.min(target);
            let transaction = motcua_chassis::db::begin_write(db).await.map_err(database)?;
            store::rollups::apply(&transaction, store::SHADOW, &events).await.map_err(database)?;
            if !rebuilds::progress(&transaction, rebuild_id, reached - cursor, now_ms()).await.map_err(database)? {
                return Err("REBUILD_ABANDONED");
            }
            transaction.commit().await.map_err(database)?;
            if cursors::renew_all(db, holder, now_ms() + REBUILD_LEASE_MS).await.map_err(database)? != FEEDS {
                return Err("REBUILD_LEASE_LOST");
            }
            cursor = reached;
        }
    }
    let transaction = motcua_chassis::db::begin_write(db).await.map_err(database)?;
    // The leases are checked in the swap's transaction: had one expired, a follower may have moved
    // its cursor past what was replayed.
    if cursors::release(&transaction, holder).await.map_err(database)? != FEEDS {
        return Err("REBUILD_LEASE_LOST");
    }
    store::rollups::swap_in_shadow(&transaction).await.map_err(database)?;
    transaction.commit().await.map_err(database)?;
    Ok(())
}
