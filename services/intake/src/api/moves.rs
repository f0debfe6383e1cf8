//! The lifecycle moves: a table says what each move's RPC carries and answers, and every move goes
//! through one path that validates the common fields, applies the state machine to the stored dossier,
//! records history and event, and answers a retry with the original response. Only the moves that
//! carry more than an officer and a reason have handlers longer than a line or two.

use std::marker::PhantomData;

use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller};
use motcua_proto::motcua::intake::v1::{self as pb, intake_event::Payload};
use prost::Message;

use super::{
    IntakeApi, convert,
    dossiers::{decode, event},
    validate::Violations,
};
use crate::{
    domain::dossier::{Command, Dossier, HistoryEntry, MoveError, MoveMeta},
    store::{
        documents::NewDocument,
        dossiers::{self, Effects, Outcome},
    },
};

/// A move's request message: its RPC, whether the officer must say why, the fields every move carries,
/// and the response that carries the dossier after the move. [`move_rpcs!`] writes it from one row.
pub(super) trait MoveRpc: Message {
    /// The RPC's response.
    type Response: Message + Default;
    /// The RPC, as the request log and the audit trail name it.
    const RPC: &'static str;
    /// Whether a reason is required.
    const REASON_REQUIRED: bool;
    /// `request_id`, `name`, `actor` and `reason`.
    fn common(&self) -> (&str, &str, Option<&pb::Officer>, &str);
    /// The response, given the dossier after the move.
    fn respond(dossier: pb::Dossier) -> Self::Response;
}

/// One row per move RPC: request => response, RPC name, whether a reason is required, and the
/// response's fields beside the dossier, read from the dossier after the move.
macro_rules! move_rpcs {
    ($($request:ident => $response:ident, $rpc:literal, reason required: $required:literal
        $(, $field:ident from |$proto:ident| $value:expr)?;)*) => {$(
        impl MoveRpc for pb::$request {
            type Response = pb::$response;
            const RPC: &'static str = $rpc;
            const REASON_REQUIRED: bool = $required;
            fn common(&self) -> (&str, &str, Option<&pb::Officer>, &str) {
                (&self.request_id, &self.name, self.actor.as_ref(), &self.reason)
            }
            fn respond(dossier: pb::Dossier) -> pb::$response {
                $(let $field = { let $proto = &dossier; $value };)?
                pb::$response { $($field,)? dossier: Some(dossier) }
            }
        }
    )*};
}

move_rpcs! {
    AcceptDossierRequest => AcceptDossierResponse, "AcceptDossier", reason required: false;
    RefuseDossierRequest => RefuseDossierResponse, "RefuseDossier", reason required: true;
    StartProcessingRequest => StartProcessingResponse, "StartProcessing", reason required: false;
    TransferDossierRequest => TransferDossierResponse, "TransferDossier", reason required: false,
        hand_over from |proto| proto.hand_overs.last().cloned();
    RequestSupplementRequest => RequestSupplementResponse, "RequestSupplement", reason required: true;
    SupplementDossierRequest => SupplementDossierResponse, "SupplementDossier", reason required: false;
    RequestPaymentRequest => RequestPaymentResponse, "RequestPayment", reason required: false;
    ConfirmPaymentRequest => ConfirmPaymentResponse, "ConfirmPayment", reason required: false;
    StopDossierRequest => StopDossierResponse, "StopDossier", reason required: true;
    WithdrawDossierRequest => WithdrawDossierResponse, "WithdrawDossier", reason required: true;
    ApologizeDossierRequest => ApologizeDossierResponse, "ApologizeDossier", reason required: true,
        apology from |proto| proto.apologies.last().cloned();
    ResolveDossierRequest => ResolveDossierResponse, "ResolveDossier", reason required: false;
    ApproveResultRequest => ApproveResultResponse, "ApproveResult", reason required: false;
    ReturnResultRequest => ReturnResultResponse, "ReturnResult", reason required: false;
}

/// What every move request carries, read before the handler takes its own fields out of the request.
pub(super) struct MoveRequest<Q> {
    body: Vec<u8>,
    request_id: String,
    name: String,
    actor: Option<pb::Officer>,
    reason: String,
    /// A document the move stores with itself (a dossier's result).
    document: Option<NewDocument>,
    rpc: PhantomData<fn() -> Q>,
}

impl<Q: MoveRpc> MoveRequest<Q> {
    /// The common fields of `request`, and its encoding for the request log.
    pub(super) fn of(request: &Q) -> Self {
        let (request_id, name, actor, reason) = request.common();
        Self {
            body: request.encode_to_vec(),
            request_id: request_id.to_owned(),
            name: name.to_owned(),
            actor: actor.cloned(),
            reason: reason.to_owned(),
            document: None,
            rpc: PhantomData,
        }
    }

    /// The same request, storing `document` in the move's transaction.
    pub(super) fn storing(self, document: Option<NewDocument>) -> Self {
        Self { document, ..self }
    }
}

impl IntakeApi {
    /// Makes one move: validation of the common fields, then the state machine on the stored dossier.
    /// `payload` makes the move's event from the dossier after it and its facts.
    pub(super) async fn make_move<Q: MoveRpc>(
        &self,
        caller: &Caller,
        mut request: MoveRequest<Q>,
        mut violations: Violations,
        command: Command,
        payload: impl Fn(&Dossier, Option<pb::DossierFacts>) -> Payload,
    ) -> Result<Q::Response, ApiError> {
        let key = RequestKey::new(&request.request_id, Q::RPC, &request.body)?;
        let code = violations.dossier_name("name", &request.name, &self.state.code_format);
        let actor = violations.officer("actor", request.actor);
        violations.text("reason", &request.reason, Q::REASON_REQUIRED);
        violations.finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let now = self.state.clock.now();
        let state = &self.state;
        let mutate = |dossier: &mut Dossier| {
            caller.check_branch(&dossier.branch_code)?;
            let meta = MoveMeta {
                actor: actor.clone(),
                reason: request.reason.clone(),
                now,
                request_id: key.request_id().to_owned(),
            };
            dossier.perform(command.clone(), meta, &state.calendar).map(Some).map_err(|error| move_error(&code, error))
        };
        let effects = |dossier: &Dossier, entry: Option<&HistoryEntry>| {
            let response = Q::respond(convert::dossier_to_proto(dossier, &[], now));
            let facts = convert::facts(dossier, entry.and_then(|entry| entry.from_status));
            Effects {
                response: response.encode_to_vec(),
                event: event(dossier, key.request_id(), payload(dossier, Some(facts))),
            }
        };
        let document = request.document.take();
        match dossiers::change_storing(&state.db, &key, &code, document, mutate, effects).await? {
            Outcome::Done(dossier) => {
                state.feed.appended();
                state.follow_ups_due.notify_one();
                tracing::info!(dossier_code = %code, rpc = Q::RPC, status = dossier.status as i32, "dossier moved");
                Ok(Q::respond(convert::dossier_to_proto(&dossier, &[], now)))
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }

    /// A move that carries nothing but the officer and the reason.
    async fn simple_move<Q: MoveRpc>(
        &self,
        caller: &Caller,
        request: &Q,
        command: Command,
        payload: impl Fn(&Dossier, Option<pb::DossierFacts>) -> Payload,
    ) -> Result<Q::Response, ApiError> {
        self.make_move(caller, MoveRequest::of(request), Violations::default(), command, payload).await
    }

    pub(super) async fn accept(
        &self,
        caller: Caller,
        request: pb::AcceptDossierRequest,
    ) -> Result<pb::AcceptDossierResponse, ApiError> {
        self.simple_move(&caller, &request, Command::Accept, |_, facts| {
            Payload::DossierAccepted(pb::DossierAccepted { dossier: facts })
        })
        .await
    }

    pub(super) async fn refuse(
        &self,
        caller: Caller,
        request: pb::RefuseDossierRequest,
    ) -> Result<pb::RefuseDossierResponse, ApiError> {
        self.simple_move(&caller, &request, Command::Refuse, |moved, facts| {
            Payload::DossierRefused(pb::DossierRefused { dossier: facts, completion: convert::completion(moved) })
        })
        .await
    }

    pub(super) async fn stop(
        &self,
        caller: Caller,
        request: pb::StopDossierRequest,
    ) -> Result<pb::StopDossierResponse, ApiError> {
        self.simple_move(&caller, &request, Command::Stop, |moved, facts| {
            Payload::DossierStopped(pb::DossierStopped { dossier: facts, completion: convert::completion(moved) })
        })
        .await
    }

    pub(super) async fn withdraw(
        &self,
        caller: Caller,
        request: pb::WithdrawDossierRequest,
    ) -> Result<pb::WithdrawDossierResponse, ApiError> {
        self.simple_move(&caller, &request, Command::Withdraw, |_, facts| {
            Payload::DossierWithdrawn(pb::DossierWithdrawn { dossier: facts })
        })
        .await
    }
}

fn move_error(code: &str, error: MoveError) -> ApiError {
    match error {
        MoveError::Refused(refusal) => ApiError::FailedPrecondition {
            reason: "INVALID_STATUS_TRANSITION",
            violation_type: "STATUS",
            subject: format!("dossiers/{code}"),
            description: refusal.describe(),
        },
        MoveError::AppointmentNotLater => ApiError::invalid(
            "APPOINTMENT_NOT_LATER",
            "new_appointment_time",
            "must be later than the current appointment",
        ),
    }
}
