//! A recorded call in progress, and how a mutation's transaction writes the call's record: the record
//! commits with the change it describes, or neither does.
//!
//! The [`AuditLayer`](super::AuditLayer) makes a [`PendingCall`] for every mutation and runs the
//! handler with it in a task-local. The transaction that makes the change writes the record through
//! [`record_in`] (the idempotency step that stores the response does it for every mutation), and the
//! call remembers the record's sequence; the layer then writes nothing more for a call whose record
//! committed, and records a call that committed nothing (refused, failed, replayed) after it answers.
//! Work done in another task (a batch that commits many calls at once) takes the call along with
//! [`PendingCall::current`] and writes it with [`PendingCall::record_in`].

use std::sync::{Arc, Mutex};

use motcua_proto::motcua::audit::v1::audit_record::Action;
use sea_orm::{ConnectionTrait, DbErr};

use super::{AuditNote, AuditTrail, Entry, store};

tokio::task_local! {
    static CURRENT: PendingCall;
}

/// One recorded call, from the layer's point of view: who called what, and the note its handler
/// fills. Cheap to clone.
#[derive(Clone)]
pub struct PendingCall {
    shared: Arc<Shared>,
}

struct Shared {
    trail: AuditTrail,
    note: AuditNote,
    identity: String,
    rpc: String,
    action: Action,
    trace_id: String,
    /// The sequence of the record the call's last transaction wrote; committed only if that
    /// transaction did.
    written: Mutex<Option<i64>>,
}

impl PendingCall {
    pub(super) fn new(
        trail: AuditTrail,
        note: AuditNote,
        identity: String,
        rpc: String,
        action: Action,
        trace_id: String,
    ) -> Self {
        Self { shared: Arc::new(Shared { trail, note, identity, rpc, action, trace_id, written: Mutex::new(None) }) }
    }

    /// The call the current task is handling, if it is a recorded one.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `future` as the handling of this call.
    pub(super) async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// Writes the record of this call, answered with the encoded `response`, through `connection`,
    /// which must be the transaction that makes the call's change; nothing for a call that is not a
    /// mutation. A call whose transaction is tried again writes again; only the committed one stays.
    pub async fn record_in(&self, connection: &impl ConnectionTrait, response: &[u8]) -> Result<(), DbErr> {
        let shared = &self.shared;
        if shared.action != Action::Mutation {
            return Ok(());
        }
        let sequence = store::append(connection, shared.trail.now(), &self.entry_answered(response)).await?;
        *shared.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sequence);
        Ok(())
    }

    /// Writes the records of `calls` (each with its encoded response) through `connection`, the
    /// transaction that makes all their changes, in a fixed number of statements: what a batch that
    /// commits many calls at once does instead of [`record_in`](Self::record_in) for each.
    pub async fn record_many_in(connection: &impl ConnectionTrait, calls: &[(&Self, &[u8])]) -> Result<(), DbErr> {
        let mutations: Vec<(&Self, Entry)> = calls
            .iter()
            .filter(|(call, _)| call.shared.action == Action::Mutation)
            .map(|(call, response)| (*call, call.entry_answered(response)))
            .collect();
        let Some((first, _)) = mutations.first() else { return Ok(()) };
        let entries: Vec<&Entry> = mutations.iter().map(|(_, entry)| entry).collect();
        let sequences = store::append_many(connection, first.shared.trail.now(), &entries).await?;
        for ((call, _), sequence) in mutations.iter().zip(sequences) {
            *call.shared.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sequence);
        }
        Ok(())
    }

    /// The record of this call, answered with the encoded `response`.
    fn entry_answered(&self, response: &[u8]) -> Entry {
        let shared = &self.shared;
        Entry {
            identity: shared.identity.clone(),
            rpc: shared.rpc.clone(),
            action: shared.action,
            facts: shared.note.with_response(response),
            trace_id: shared.trace_id.clone(),
            status_code: tonic::Code::Ok as i32,
            error_reason: String::new(),
        }
    }

    /// The sequence of the record a transaction of this call wrote, if one did.
    pub(super) fn written(&self) -> Option<i64> {
        *self.shared.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The record of this call as the layer writes it, answered with `status_code` and `reason`.
    pub(super) fn entry(&self, status_code: i32, error_reason: String) -> Entry {
        let shared = &self.shared;
        Entry {
            identity: shared.identity.clone(),
            rpc: shared.rpc.clone(),
            action: shared.action,
            facts: shared.note.snapshot(),
            trace_id: shared.trace_id.clone(),
            status_code,
            error_reason,
        }
    }
}

/// Writes the record of the call the current task handles, answered with the encoded `response`,
/// through `connection`, the transaction that makes its change. Nothing when the task handles no
/// recorded mutation (a job, a test calling a store directly).
pub async fn record_in(connection: &impl ConnectionTrait, response: &[u8]) -> Result<(), DbErr> {
    match PendingCall::current() {
        Some(call) => call.record_in(connection, response).await,
        None => Ok(()),
    }
}
