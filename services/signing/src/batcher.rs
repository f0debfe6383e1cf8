//! Group commit of signing acts: a `Sign` or `Seal` does its work outside any lock (validation, its
//! certificate, the CMS and its key operation), then joins the replica's batch, which one task commits
//! (closed at [`BatchLimits::max_entries`] acts or [`BatchLimits::max_wait`] after its first) in one
//! transaction: the log's head taken once, no act's certificate revoked before that, leaves numbered
//! densely in the batch's order, then the leaves, records, events, request-log rows and audit records.
//! Replicas serialise on the head's row, so the log keeps one order. An act whose certificate was
//! revoked is refused alone and the rest go again; a retry of an earlier call gets its response; when a
//! write fails the acts go one by one, so only the failing act fails; a request id recorded meanwhile
//! by another replica sends the batch round again, to find that call's response.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use motcua_chassis::{
    ApiError,
    audit::PendingCall,
    clock::Clock,
    feed::{self, Feed, NewEvent},
    idempotency::{self, RequestKey},
};
use motcua_proto::motcua::signing::v1 as pb;
use prost::Message;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::{Notify, oneshot};
use tonic::Status;
use tracing::Instrument;

use crate::{
    api::{db_status, status},
    store::{entities::signature, log_batch, pki, signatures},
    transparency::TransparencyLog,
};

/// The largest batch the setting accepts: a few thousand bound parameters a statement.
pub const MAX_BATCH: usize = 1000;

/// When a batch closes.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// At most this many acts.
    pub max_entries: usize,
    /// At most this long after its first act arrived, waiting for more.
    pub max_wait: Duration,
}

/// What a committed act answers and announces, given its record with its log index.
pub struct Effects {
    /// The encoded response.
    pub response: Vec<u8>,
    /// The event's subject, a resource name.
    pub subject: String,
    /// The event's type, e.g. `document_signed`.
    pub event_type: &'static str,
    /// The event.
    pub payload: pb::signing_event::Payload,
}

/// A signing act ready to be logged.
pub struct Act {
    /// Its request id, RPC and body hash.
    pub key: RequestKey,
    /// Its leaf's bytes.
    pub leaf_data: Vec<u8>,
    /// The certificates that must be unrevoked when the act is logged, each with its refusal.
    pub unrevoked: Vec<(String, Status)>,
    /// The authority whose CRL number the record notes as its revocation check.
    pub crl_authority: Option<String>,
    /// Its record; the batch fills in `log_index` and `check_crl_number`.
    pub record: signature::Model,
    /// Its response and event, given the final record.
    pub effects: Box<dyn Fn(&signature::Model) -> Effects + Send + Sync>,
}

type Answer = Result<Vec<u8>, Status>;

struct Waiting {
    act: Act,
    arrived: Instant,
    span: tracing::Span,
    traceparent: String,
    audit: Option<PendingCall>, // its audit record, which the batch's transaction writes
    reply: oneshot::Sender<Answer>,
}

impl Waiting {
    /// A caller that went away no longer listens; its act stands, and a retry gets its response.
    fn answer(self, answer: Answer) {
        let _ = self.reply.send(answer);
    }
}

/// The batches of one replica. Cheap to clone.
#[derive(Clone)]
pub struct Batcher {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    feed: Feed,
    log: Arc<TransparencyLog>,
    clock: Clock,
    limits: BatchLimits,
    queue: Mutex<Queue>,
    arrived: Notify,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Waiting>,
    leading: bool,
}

impl Batcher {
    /// Batches written to `db`, announced on `feed` and `log` once committed.
    pub fn new(
        db: DatabaseConnection,
        feed: Feed,
        log: Arc<TransparencyLog>,
        clock: Clock,
        limits: BatchLimits,
    ) -> Self {
        let limits = BatchLimits { max_entries: limits.max_entries.clamp(1, MAX_BATCH), ..limits };
        let queue = Mutex::new(Queue::default());
        Self { inner: Arc::new(Inner { db, feed, log, clock, limits, queue, arrived: Notify::new() }) }
    }

    /// Logs `act` with the others of its batch; its encoded response, or an earlier call's.
    pub async fn submit(&self, act: Act) -> Answer {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            act,
            arrived: Instant::now(),
            span: tracing::Span::current(),
            traceparent: motcua_chassis::grpc_trace::current_traceparent(),
            audit: PendingCall::current(),
            reply,
        };
        let leads = {
            let mut queue = lock(&self.inner.queue);
            queue.waiting.push_back(waiting);
            !std::mem::replace(&mut queue.leading, true)
        };
        self.inner.arrived.notify_one();
        if leads {
            // A task of its own, so that a caller who goes away does not abandon the others' batch.
            tokio::spawn(lead(self.inner.clone()));
        }
        answer.await.unwrap_or_else(|_| Err(status(ApiError::internal("the signing batch ended without answering"))))
    }
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Drops the waiting calls (they get an error) if the leader panics; the next call leads anew.
struct Leading {
    inner: Arc<Inner>,
    finished: bool,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = lock(&self.inner.queue);
            queue.waiting.clear();
            queue.leading = false;
        }
    }
}

async fn lead(inner: Arc<Inner>) {
    let mut leading = Leading { inner: inner.clone(), finished: false };
    loop {
        fill(&inner).await;
        let batch = {
            let mut queue = lock(&inner.queue);
            if queue.waiting.is_empty() {
                queue.leading = false;
                break;
            }
            take_batch(&mut queue.waiting, inner.limits.max_entries)
        };
        let span = tracing::info_span!("signing.log_batch", acts = batch.len());
        for waiting in &batch {
            span.follows_from(&waiting.span);
        }
        let again = run(&inner, batch).instrument(span).await;
        let mut queue = lock(&inner.queue);
        for waiting in again.into_iter().rev() {
            queue.waiting.push_front(waiting);
        }
    }
    leading.finished = true;
}

/// Waits until the queue holds a full batch or its first act has waited `max_wait`.
async fn fill(inner: &Inner) {
    loop {
        let deadline = {
            let queue = lock(&inner.queue);
            match queue.waiting.front() {
                Some(first) if queue.waiting.len() < inner.limits.max_entries => first.arrived + inner.limits.max_wait,
                _ => return,
            }
        };
        let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|left| !left.is_zero()) else {
            return;
        };
        let _ = tokio::time::timeout(left, inner.arrived.notified()).await;
    }
}

/// The next batch from `queue`: at most `size`, each request id once; the rest stays, in order.
fn take_batch(queue: &mut VecDeque<Waiting>, size: usize) -> Vec<Waiting> {
    let mut batch = Vec::new();
    let mut request_ids = HashSet::new();
    let mut skipped = VecDeque::new();
    while batch.len() < size {
        let Some(waiting) = queue.pop_front() else { break };
        if request_ids.insert(waiting.act.key.request_id().to_owned()) {
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
    /// These acts (by offset) may not be logged: their certificates were revoked.
    Refused(Vec<(usize, Status)>),
    /// A concurrent call recorded one of the request ids first: the batch goes again.
    Raced,
    /// The database failed.
    Database(DbErr),
}

impl From<DbErr> for Stop {
    fn from(error: DbErr) -> Self {
        Self::Database(error)
    }
}

/// Logs `batch` in one transaction and answers each call; returns the calls to go again.
async fn run(inner: &Inner, batch: Vec<Waiting>) -> Vec<Waiting> {
    let keys: Vec<&RequestKey> = batch.iter().map(|waiting| &waiting.act.key).collect();
    let earlier = match idempotency::find_many(&inner.db, &keys).await {
        Ok(earlier) => earlier,
        Err(error) => {
            fail(batch, &status(error));
            return Vec::new();
        }
    };
    let mut fresh = Vec::with_capacity(batch.len());
    for (waiting, earlier) in batch.into_iter().zip(earlier) {
        match earlier {
            Ok(Some(response)) => waiting.answer(Ok(response)),
            Ok(None) => fresh.push(waiting),
            Err(error) => waiting.answer(Err(status(error))),
        }
    }
    if fresh.is_empty() {
        return Vec::new();
    }
    let transaction = match motcua_chassis::db::begin_write(&inner.db).await {
        Ok(transaction) => transaction,
        Err(error) => {
            fail(fresh, &db_status(error));
            return Vec::new();
        }
    };
    match write(inner, &transaction, &fresh).await {
        Ok(responses) => match transaction.commit().await {
            Ok(()) => {
                for (waiting, response) in fresh.into_iter().zip(responses) {
                    waiting.answer(Ok(response));
                }
                inner.feed.appended();
                inner.log.wake();
                Vec::new()
            }
            Err(error) => {
                fail(fresh, &db_status(error));
                Vec::new()
            }
        },
        Err(Stop::Refused(refused)) => {
            let _ = transaction.rollback().await;
            let mut refusals: HashMap<usize, Status> = refused.into_iter().collect();
            let mut again = Vec::with_capacity(fresh.len());
            for (offset, waiting) in fresh.into_iter().enumerate() {
                match refusals.remove(&offset) {
                    Some(refusal) => waiting.answer(Err(refusal)),
                    None => again.push(waiting),
                }
            }
            again
        }
        Err(Stop::Raced) => {
            let _ = transaction.rollback().await;
            fresh
        }
        Err(Stop::Database(error)) => {
            let _ = transaction.rollback().await;
            if fresh.len() == 1 {
                fail(fresh, &db_status(error));
                return Vec::new();
            }
            // Which act failed is unknown: each goes alone, so that only the failing one fails.
            let mut again = Vec::new();
            for waiting in fresh {
                again.extend(Box::pin(run(inner, vec![waiting])).await);
            }
            again
        }
    }
}

/// Writes `fresh` in `transaction`, a statement per table; the acts' encoded responses, in order.
async fn write(inner: &Inner, transaction: &DatabaseTransaction, fresh: &[Waiting]) -> Result<Vec<Vec<u8>>, Stop> {
    let first_index = log_batch::take_indexes(transaction, fresh.len() as i64).await?;
    let mut certificate_ids: Vec<String> =
        fresh.iter().flat_map(|waiting| waiting.act.unrevoked.iter().map(|(id, _)| id.clone())).collect();
    certificate_ids.sort_unstable();
    certificate_ids.dedup();
    let revoked = pki::revoked_among(transaction, &certificate_ids).await?;
    if !revoked.is_empty() {
        let refused = fresh
            .iter()
            .enumerate()
            .filter_map(|(offset, waiting)| {
                let (_, refusal) = waiting.act.unrevoked.iter().find(|(id, _)| revoked.contains(id))?;
                Some((offset, refusal.clone()))
            })
            .collect();
        return Err(Stop::Refused(refused));
    }
    let mut authority_ids: Vec<String> = fresh.iter().filter_map(|waiting| waiting.act.crl_authority.clone()).collect();
    authority_ids.sort_unstable();
    authority_ids.dedup();
    let crl_numbers: HashMap<String, i64> = pki::crl_numbers(transaction, &authority_ids).await?.into_iter().collect();

    let now = inner.clock.now();
    let mut records = Vec::with_capacity(fresh.len());
    let mut events = Vec::with_capacity(fresh.len());
    let mut responses = Vec::with_capacity(fresh.len());
    for (offset, waiting) in fresh.iter().enumerate() {
        let act = &waiting.act;
        let mut record = act.record.clone();
        record.log_index = first_index + offset as i64;
        record.check_crl_number =
            act.crl_authority.as_ref().and_then(|authority| crl_numbers.get(authority).copied()).unwrap_or(0);
        let effects = (act.effects)(&record);
        let payload = pb::SigningEvent { envelope: None, payload: Some(effects.payload) }.encode_to_vec();
        let event = NewEvent {
            occur_time: now,
            subject: effects.subject,
            request_id: act.key.request_id().to_owned(),
            event_type: effects.event_type.to_owned(),
            payload,
        };
        events.push((event, waiting.traceparent.clone()));
        responses.push(effects.response);
        records.push(record);
    }
    log_batch::insert_leaves(
        transaction,
        first_index,
        fresh.iter().map(|waiting| waiting.act.leaf_data.clone()).collect(),
    )
    .await?;
    signatures::insert_many(transaction, records).await?;
    feed::append_many(transaction, events).await?;
    let calls: Vec<(&RequestKey, &[u8])> =
        fresh.iter().zip(&responses).map(|(waiting, response)| (&waiting.act.key, response.as_slice())).collect();
    if !idempotency::record_many(transaction, &calls).await? {
        return Err(Stop::Raced);
    }
    let audited: Vec<(&PendingCall, &[u8])> = fresh
        .iter()
        .zip(&responses)
        .filter_map(|(waiting, response)| Some((waiting.audit.as_ref()?, response.as_slice())))
        .collect();
    PendingCall::record_many_in(transaction, &audited).await?;
    Ok(responses)
}

/// Answers every call with `error`.
fn fail(batch: impl IntoIterator<Item = Waiting>, error: &Status) {
    batch.into_iter().for_each(|waiting| waiting.answer(Err(error.clone())));
}
