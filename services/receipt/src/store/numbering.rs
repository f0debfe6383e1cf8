//! Group commit of receipt numbers: the `IssueReceipt` calls waiting on one series in one replica are
//! numbered together, in one transaction with one update of the series counter (`last_number + k`),
//! instead of queueing one by one on the counter's row lock. Still gap-free: a batch either commits
//! every receipt it numbered or rolls back every number.
//!
//! One task per series leads: it takes what has queued (at most the batch size, one `issue_date`, each
//! request id once), answers retries of earlier calls from the request log, and in one transaction
//! takes the numbers, writes the receipts, their events, the responses and each call's audit record,
//! and commits. A request whose receipt cannot be built rolls the batch
//! back and is answered alone; the rest go again. A request id that a concurrent call recorded first
//! rolls the batch back too, and the batch goes again (finding that call's response). A series that
//! cannot give the whole batch its numbers (closed, nearly exhausted, a date out of order) numbers the
//! batch one by one, so each call gets its own answer. Request ids are written in id order, so
//! replicas writing overlapping ids cannot deadlock.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use chrono::NaiveDate;
use motcua_chassis::{
    ApiError,
    audit::PendingCall,
    feed,
    idempotency::{self, RequestKey},
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::{
    Effects, Outcome,
    receipts::insert_many,
    series::{refusal, take_numbers},
};
use crate::domain::{
    receipt::{Issued, Receipt},
    series::Series,
};

/// The batch size on SQLite when the setting is unset.
pub const DEFAULT_BATCH: usize = 64;

/// The batch size when the setting is unset: batches where they were measured faster (`make bench`),
/// on SQLite, whose one writer makes every receipt wait for the commit before it; one receipt a
/// transaction on PostgreSQL, where concurrent calls already prepare their receipts in parallel and
/// only hold the counter's row lock from the update to the commit.
pub fn default_batch(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Sqlite => DEFAULT_BATCH,
        _ => 1,
    }
}
/// The largest batch the setting accepts.
pub const MAX_BATCH: usize = 1000;

/// Writes the receipt for a series and a number, or refuses.
pub type Build = Box<dyn Fn(&Series, i64) -> Result<Issued, ApiError> + Send + Sync>;
/// The response and events of an issued receipt.
pub type MakeEffects = Box<dyn Fn(&Receipt) -> Effects + Send + Sync>;

/// One `IssueReceipt` call waiting for its number.
pub struct Order {
    /// Its request id, RPC and body hash.
    pub key: RequestKey,
    /// The series to number it in.
    pub series_id: String,
    /// The receipt's date.
    pub issue_date: NaiveDate,
    /// Today, in Asia/Ho_Chi_Minh.
    pub today: NaiveDate,
    /// Its receipt, given the series and the number.
    pub build: Build,
    /// Its response and events, given the receipt.
    pub effects: MakeEffects,
}

type Answer = Result<Outcome<Receipt>, ApiError>;

struct Waiting {
    order: Order,
    /// The calling RPC's span and W3C traceparent: the batch runs in a task of its own.
    span: tracing::Span,
    traceparent: String,
    /// The call's audit record, which the batch's transaction writes.
    audit: Option<PendingCall>,
    reply: oneshot::Sender<Answer>,
}

impl Waiting {
    fn answer(self, answer: Answer) {
        // A caller that gave up (its deadline passed) no longer listens; its receipt stands, and a retry
        // with the same request id gets it.
        let _ = self.reply.send(answer);
    }
}

/// The numbering of one replica: a queue per series with one leading task.
#[derive(Clone)]
pub struct Numbering {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    batch: usize,
    queues: Mutex<HashMap<String, VecDeque<Waiting>>>,
}

impl Numbering {
    /// Numbering in `db`, at most `batch` receipts (1 to [`MAX_BATCH`]) a transaction.
    pub fn new(db: DatabaseConnection, batch: usize) -> Self {
        let batch = batch.clamp(1, MAX_BATCH);
        Self { inner: Arc::new(Inner { db, batch, queues: Mutex::new(HashMap::new()) }) }
    }

    /// Numbers and stores the receipt of `order`, with the others queued on its series.
    pub async fn issue(&self, order: Order) -> Answer {
        let (reply, answer) = oneshot::channel();
        let series_id = order.series_id.clone();
        let waiting = Waiting {
            order,
            span: tracing::Span::current(),
            traceparent: motcua_chassis::grpc_trace::current_traceparent(),
            audit: PendingCall::current(),
            reply,
        };
        let leads = {
            let mut queues = lock(&self.inner.queues);
            match queues.get_mut(&series_id) {
                Some(queue) => {
                    queue.push_back(waiting);
                    false
                }
                None => {
                    queues.insert(series_id.clone(), VecDeque::from([waiting]));
                    true
                }
            }
        };
        if leads {
            // A task of its own, so that a caller who goes away does not abandon the others' batch.
            tokio::spawn(lead(self.inner.clone(), series_id));
        }
        answer.await.unwrap_or_else(|_| Err(ApiError::internal("the numbering task ended without answering")))
    }
}

fn lock(queues: &Mutex<HashMap<String, VecDeque<Waiting>>>) -> MutexGuard<'_, HashMap<String, VecDeque<Waiting>>> {
    queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes the series' queue if its leader ends without finishing (a panic), so that the waiting
/// calls get an error rather than waiting forever and the next call leads anew.
struct Leading {
    inner: Arc<Inner>,
    series_id: String,
    finished: bool,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if !self.finished {
            lock(&self.inner.queues).remove(&self.series_id);
        }
    }
}

async fn lead(inner: Arc<Inner>, series_id: String) {
    let mut leading = Leading { inner: inner.clone(), series_id: series_id.clone(), finished: false };
    loop {
        let batch = {
            let mut queues = lock(&inner.queues);
            let Some(queue) = queues.get_mut(&series_id) else { break };
            if queue.is_empty() {
                queues.remove(&series_id);
                break;
            }
            take_batch(queue, inner.batch)
        };
        // One span for the batch, linked from the span of every call in it.
        let span = tracing::info_span!("receipt.number_batch", series_id = %series_id, receipts = batch.len());
        for waiting in &batch {
            span.follows_from(&waiting.span);
        }
        let again = run(&inner.db, batch).instrument(span).await;
        if !again.is_empty() {
            let mut queues = lock(&inner.queues);
            let queue = queues.entry(series_id.clone()).or_default();
            for waiting in again.into_iter().rev() {
                queue.push_front(waiting);
            }
        }
    }
    leading.finished = true;
}

/// The next batch from the front of `queue`: at most `size`, all of the first one's date, each request
/// id once. What does not fit stays in the queue, in its order.
fn take_batch(queue: &mut VecDeque<Waiting>, size: usize) -> Vec<Waiting> {
    let mut batch: Vec<Waiting> = Vec::new();
    let mut request_ids = HashSet::new();
    let mut skipped = VecDeque::new();
    while batch.len() < size {
        let Some(waiting) = queue.pop_front() else { break };
        let same_day = batch.first().is_none_or(|first| first.order.issue_date == waiting.order.issue_date);
        if same_day && request_ids.insert(waiting.order.key.request_id().to_owned()) {
            batch.push(waiting);
        } else {
            skipped.push_back(waiting);
        }
    }
    while let Some(waiting) = skipped.pop_back() {
        queue.push_front(waiting);
    }
    batch
}

/// Why writing a batch stopped.
enum Stop {
    /// The receipt at this offset could not be built: it alone is refused.
    Build(usize, ApiError),
    /// A concurrent call recorded one of the request ids first: the batch goes again.
    Raced,
    /// The database failed: the whole batch does.
    Database(ApiError),
}

impl From<sea_orm::DbErr> for Stop {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Database(error.into())
    }
}

impl From<ApiError> for Stop {
    fn from(error: ApiError) -> Self {
        Self::Database(error)
    }
}

/// Numbers `batch` in one transaction and answers each call; returns the calls to go again.
async fn run(db: &DatabaseConnection, mut batch: Vec<Waiting>) -> Vec<Waiting> {
    batch.sort_by(|a, b| a.order.key.request_id().cmp(b.order.key.request_id()));
    // Retries of calls answered earlier need no number.
    let keys: Vec<&RequestKey> = batch.iter().map(|waiting| &waiting.order.key).collect();
    let earlier = match idempotency::find_many(db, &keys).await {
        Ok(earlier) => earlier,
        Err(error) => {
            fail(batch, error);
            return Vec::new();
        }
    };
    let mut fresh = Vec::with_capacity(batch.len());
    for (waiting, earlier) in batch.into_iter().zip(earlier) {
        match earlier {
            Ok(Some(response)) => waiting.answer(Ok(Outcome::Replayed(response))),
            Ok(None) => fresh.push(waiting),
            Err(error) => waiting.answer(Err(error)),
        }
    }
    let Some(first) = fresh.first() else { return Vec::new() };
    let (series_id, issue_date, today) = (first.order.series_id.clone(), first.order.issue_date, first.order.today);
    let transaction = match motcua_chassis::db::begin_write(db).await {
        Ok(transaction) => transaction,
        Err(error) => {
            fail(fresh, error.into());
            return Vec::new();
        }
    };
    let count = fresh.len();
    let (series, first_number) = match take_numbers(&transaction, &series_id, issue_date, today, count as i64).await {
        Ok(Some(taken)) => taken,
        Ok(None) if count == 1 => {
            let error = refusal(&transaction, &series_id, issue_date, today).await.unwrap_or_else(|error| error);
            fail(fresh, error);
            return Vec::new();
        }
        Ok(None) => {
            // The series cannot number them all: number each alone, so each gets its own answer.
            let _ = transaction.rollback().await;
            let mut again = Vec::new();
            for waiting in fresh {
                again.extend(Box::pin(run(db, vec![waiting])).await);
            }
            return again;
        }
        Err(error) => {
            fail(fresh, error);
            return Vec::new();
        }
    };
    match write(&transaction, &fresh, &series, first_number).await {
        Ok(receipts) => match transaction.commit().await {
            Ok(()) => {
                for (waiting, receipt) in fresh.into_iter().zip(receipts) {
                    waiting.answer(Ok(Outcome::Done(receipt)));
                }
                Vec::new()
            }
            Err(error) => {
                fail(fresh, error.into());
                Vec::new()
            }
        },
        Err(Stop::Build(offset, error)) => {
            // The rollback returns every number of the batch; the others go again without this one.
            let _ = transaction.rollback().await;
            let refused = fresh.remove(offset);
            refused.answer(Err(error));
            fresh
        }
        Err(Stop::Raced) => {
            let _ = transaction.rollback().await;
            fresh
        }
        Err(Stop::Database(error)) => {
            fail(fresh, error);
            Vec::new()
        }
    }
}

/// Writes the receipts numbered `first_number`.. for `fresh`, their events and their responses (one
/// statement each, for the whole batch), and each call's audit record.
async fn write(
    transaction: &DatabaseTransaction,
    fresh: &[Waiting],
    series: &Series,
    first_number: i64,
) -> Result<Vec<Receipt>, Stop> {
    let mut issued = Vec::with_capacity(fresh.len());
    for (offset, waiting) in fresh.iter().enumerate() {
        let receipt =
            (waiting.order.build)(series, first_number + offset as i64).map_err(|error| Stop::Build(offset, error))?;
        issued.push((receipt, waiting.order.key.request_id(), waiting.traceparent.as_str()));
    }
    let receipts = insert_many(transaction, issued).await?;
    let mut events = Vec::new();
    let mut responses = Vec::with_capacity(fresh.len());
    for (waiting, receipt) in fresh.iter().zip(&receipts) {
        let effects = (waiting.order.effects)(receipt);
        events.extend(effects.events.into_iter().map(|event| (event, waiting.traceparent.clone())));
        responses.push(effects.response);
    }
    feed::append_many(transaction, events).await?;
    let calls: Vec<(&RequestKey, &[u8])> =
        fresh.iter().zip(&responses).map(|(waiting, response)| (&waiting.order.key, response.as_slice())).collect();
    if !idempotency::record_many(transaction, &calls).await? {
        return Err(Stop::Raced);
    }
    let audited: Vec<(&PendingCall, &[u8])> = fresh
        .iter()
        .zip(&responses)
        .filter_map(|(waiting, response)| Some((waiting.audit.as_ref()?, response.as_slice())))
        .collect();
    PendingCall::record_many_in(transaction, &audited).await?;
    Ok(receipts)
}

/// Answers every call of `batch` with `error`.
fn fail(batch: impl IntoIterator<Item = Waiting>, error: ApiError) {
    for waiting in batch {
        waiting.answer(Err(error.clone()));
    }
}
