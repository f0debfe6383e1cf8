//! The result of a dossier: the officer signs it (signing `Sign`), the branch leader approves it with
//! the branch seal (signing `Seal`), and it is returned. Signing is called before intake's own
//! transaction, with request ids derived from the move's, so a retried move reuses the same signature.

use motcua_chassis::{
    ApiError,
    idempotency::{self, RequestKey},
    identity::Caller,
    timestamps,
};
use motcua_proto::motcua::intake::v1::{self as pb, intake_event::Payload};
use prost::Message;
use sha2::{Digest, Sha256};

use super::{IntakeApi, convert, dossiers::decode, moves::MoveRequest, validate::Violations};
use crate::{
    domain::{
        dossier::{Command, Dossier},
        lifecycle::{self, Move, MoveContext},
    },
    store::dossiers,
};

impl IntakeApi {
    pub(super) async fn resolve(
        &self,
        caller: Caller,
        request: pb::ResolveDossierRequest,
    ) -> Result<pb::ResolveDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        if let Some(response) = self.replayed("ResolveDossier", &request.request_id, &body).await? {
            return Ok(response);
        }
        let mut violations = Violations::default();
        let document_sha256 = match &request.result_content {
            Some(pb::resolve_dossier_request::ResultContent::File(file)) => {
                if file.content.is_empty() {
                    violations.add("file.content", "required: the result document's bytes");
                }
                Sha256::digest(&file.content).to_vec()
            }
            Some(pb::resolve_dossier_request::ResultContent::Document(_)) => {
                violations.add_with_reason(
                    "DOCUMENT_NOT_SUPPORTED",
                    "document",
                    "citing a stored document as the result is not supported yet: send the result's bytes as `file`",
                );
                Vec::new()
            }
            None => {
                violations.add("file", "required: the result document");
                Vec::new()
            }
        };
        let officer_id = request.actor.as_ref().map(|actor| actor.officer_id.clone()).unwrap_or_default();
        let dossier = self.dossier_for_move(&request.name, Move::Resolve, &mut violations).await?;
        let signature = self
            .state
            .signing
            .sign(
                format!("{}/sign", request.request_id),
                &officer_id,
                document_sha256.clone(),
                format!("dossiers/{}", dossier.code.printed()),
            )
            .await?;
        let command = Command::Resolve {
            document: String::new(),
            document_sha256,
            electronic: request.electronic,
            signature: signature.name,
            log_index: signature.log_index,
        };
        let common = MoveRequest::of(&request);
        self.make_move(&caller, common, Violations::default(), command, |moved, facts| {
            Payload::ResultSigned(pb::ResultSigned {
                dossier: facts,
                officer_signature: dossier
                    .result
                    .as_ref()
                    .map(|result| result.officer_signature.clone())
                    .unwrap_or_default(),
                electronic: moved.result.as_ref().is_some_and(|result| result.electronic),
            })
        })
        .await
    }

    pub(super) async fn approve(
        &self,
        caller: Caller,
        request: pb::ApproveResultRequest,
    ) -> Result<pb::ApproveResultResponse, ApiError> {
        let body = request.encode_to_vec();
        if let Some(response) = self.replayed("ApproveResult", &request.request_id, &body).await? {
            return Ok(response);
        }
        let mut violations = Violations::default();
        let approver_id = request.actor.as_ref().map(|actor| actor.officer_id.clone()).unwrap_or_default();
        let dossier = self.dossier_for_move(&request.name, Move::Approve, &mut violations).await?;
        let result = dossier.result.clone().unwrap_or_default();
        let seal = self
            .state
            .signing
            .seal(
                format!("{}/seal", request.request_id),
                &result.officer_signature,
                &approver_id,
                result.document_sha256.clone(),
            )
            .await?;
        let command = Command::Approve { seal: seal.name, log_index: seal.log_index };
        let common = MoveRequest::of(&request);
        self.make_move(&caller, common, Violations::default(), command, |moved, facts| {
            let result = moved.result.clone().unwrap_or_default();
            Payload::ResultApproved(pb::ResultApproved {
                dossier: facts,
                officer_signature: result.officer_signature,
                seal_signature: result.seal_signature,
                electronic: result.electronic,
                completion: convert::completion(moved),
            })
        })
        .await
    }

    pub(super) async fn return_result(
        &self,
        caller: Caller,
        request: pb::ReturnResultRequest,
    ) -> Result<pb::ReturnResultResponse, ApiError> {
        let mut violations = Violations::default();
        if !(1..=3).contains(&request.return_method) {
            violations.add("return_method", "required: at the counter, by post or electronically");
        }
        let command = Command::Return { method: request.return_method };
        let common = MoveRequest::of(&request);
        self.make_move(&caller, common, violations, command, |moved, facts| {
            let result = moved.result.clone().unwrap_or_default();
            Payload::ResultReturned(pb::ResultReturned {
                dossier: facts,
                return_method: result.return_method,
                return_time: result.return_time.map(timestamps::to_proto),
            })
        })
        .await
    }

    /// The response of an earlier call with this request id, if there was one.
    async fn replayed<T: Message + Default>(
        &self,
        rpc: &'static str,
        request_id: &str,
        body: &[u8],
    ) -> Result<Option<T>, ApiError> {
        let key = RequestKey::new(request_id, rpc, body)?;
        idempotency::replay(&self.state.db, &key).await?.map(|bytes| decode(&bytes)).transpose()
    }

    /// The dossier a signing move is about, checked before signing is asked: a move the lifecycle
    /// refuses must not leave a signature behind.
    async fn dossier_for_move(
        &self,
        name: &str,
        attempted: Move,
        violations: &mut Violations,
    ) -> Result<Dossier, ApiError> {
        let code = violations.dossier_name("name", name, &self.state.code_format);
        std::mem::take(violations).finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let Some(record) = dossiers::find(&self.state.db, &code).await? else {
            return Err(ApiError::not_found("motcua.intake.v1.Dossier", name.to_owned()));
        };
        let dossier = record.dossier;
        let context = MoveContext {
            status_before_supplement: dossier.status_before_supplement,
            result_signed: dossier.result.as_ref().is_some_and(|result| !result.officer_signature.is_empty()),
        };
        lifecycle::apply(dossier.status, attempted, context).map_err(|refusal| ApiError::FailedPrecondition {
            reason: "INVALID_STATUS_TRANSITION",
            violation_type: "STATUS",
            subject: format!("dossiers/{code}"),
            description: refusal.describe(),
        })?;
        Ok(dossier)
    }
}
