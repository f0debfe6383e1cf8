//! The result of a dossier: the officer signs it (signing `Sign`), the branch leader approves it with
//! the branch seal (signing `Seal`), and it is returned. Signing is called before intake's own
//! transaction, with request ids derived from the move's, so a retried move reuses the same signature;
//! the result document is stored once, in the applicant's data store, in the transaction of the move
//! that records its signature, so a signing service that is down (UNAVAILABLE, with RetryInfo) leaves
//! neither a document nor a move behind, and the retry completes both.

use motcua_chassis::{
    ApiError,
    feed::NewEvent,
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
        applicant::{self, Applicant},
        document::{self, ACCEPTED_MEDIA_TYPES, ExtractedField, StoredDocument},
        dossier::{Command, Dossier},
        lifecycle::{self, Move, MoveContext},
    },
    store::{
        documents::{self, NewDocument},
        dossiers,
    },
};

/// `DocumentSource.DOCUMENT_SOURCE_RESULT`: a result an agency issued.
const SOURCE_RESULT: i32 = 3;
/// `CopyKind.COPY_KIND_ELECTRONIC`: the stored bytes are the original electronic document.
const COPY_KIND_ELECTRONIC: i32 = 3;

/// The result document a resolution names: one stored now with the move, or one already stored.
struct ResultDocument {
    /// Its resource name, `documents/{document_id}`.
    name: String,
    /// The SHA-256 of its bytes: what the officer signs and the leader seals.
    sha256: Vec<u8>,
    /// The document to store with the move; `None` when it is already in the store.
    new: Option<NewDocument>,
}

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
        if let Some(pb::resolve_dossier_request::ResultContent::File(file)) = &request.result_content {
            if file.content.is_empty() {
                violations.add("file.content", "required: the result document's bytes");
            }
            if !ACCEPTED_MEDIA_TYPES.contains(&file.media_type.as_str()) {
                violations.add("file.media_type", format!("one of {}", ACCEPTED_MEDIA_TYPES.join(", ")));
            }
        }
        if request.result_content.is_none() {
            violations.add("file", "required: the result document, as a file or a stored document");
        }
        let officer_id = request.actor.as_ref().map(|actor| actor.officer_id.clone()).unwrap_or_default();
        let dossier = self.dossier_for_move(&request.name, Move::Resolve, &mut violations).await?;
        caller.check_branch(&dossier.branch_code)?;
        let result = self.result_document(&dossier, &request).await?;
        let signature = self
            .state
            .signing
            .sign(
                format!("{}/sign", request.request_id),
                &officer_id,
                result.sha256.clone(),
                format!("dossiers/{}", dossier.code.printed()),
            )
            .await?;
        let command = Command::Resolve {
            document: result.name,
            document_sha256: result.sha256,
            electronic: request.electronic,
            signature: signature.name,
            log_index: signature.log_index,
        };
        let common = MoveRequest::of(&request).storing(result.new);
        self.make_move(&caller, common, Violations::default(), command, |moved, facts| {
            let result = moved.result.clone().unwrap_or_default();
            Payload::ResultSigned(pb::ResultSigned {
                dossier: facts,
                officer_signature: result.officer_signature,
                electronic: result.electronic,
            })
        })
        .await
    }

    /// The result document `request` gives for `dossier`: its file, made ready to store with the move,
    /// or a document of the applicant's data store that is a result (its bytes are what is signed).
    async fn result_document(
        &self,
        dossier: &Dossier,
        request: &pb::ResolveDossierRequest,
    ) -> Result<ResultDocument, ApiError> {
        match &request.result_content {
            Some(pb::resolve_dossier_request::ResultContent::Document(name)) => {
                let found = match document::parse_name(name) {
                    Some(document_id) => documents::find(&self.state.db, document_id).await?,
                    None => None,
                };
                let owned = found.filter(|record| {
                    record.document.source == SOURCE_RESULT && record.document.owner_key == dossier.applicant.key()
                });
                let Some(record) = owned else {
                    return Err(ApiError::invalid(
                        "INVALID_RESULT_DOCUMENT",
                        "document",
                        "must name a result document (source RESULT) of the dossier's applicant",
                    ));
                };
                Ok(ResultDocument { name: name.clone(), sha256: Sha256::digest(&record.content).to_vec(), new: None })
            }
            Some(pb::resolve_dossier_request::ResultContent::File(file)) => {
                let code = dossier.code.printed();
                let now = self.state.clock.now();
                let stored = StoredDocument {
                    document_id: uuid::Uuid::new_v4().to_string(),
                    owner_key: dossier.applicant.key().to_owned(),
                    owner_is_organisation: matches!(dossier.applicant, Applicant::Organisation { .. }),
                    title: format!("Kết quả giải quyết hồ sơ {code}"),
                    document_type: "ket_qua_giai_quyet".to_owned(),
                    source: SOURCE_RESULT,
                    copy_kind: COPY_KIND_ELECTRONIC,
                    file_name: if file.file_name.is_empty() {
                        format!("ket-qua-{code}.pdf")
                    } else {
                        file.file_name.clone()
                    },
                    media_type: file.media_type.clone(),
                    size_bytes: file.content.len() as i64,
                    sha256: Sha256::digest(&file.content).to_vec(),
                    extracted_fields: file
                        .extracted_fields
                        .iter()
                        .map(|field| ExtractedField {
                            key: field.key.clone(),
                            label: field.label.clone(),
                            value: field.value.clone(),
                        })
                        .collect(),
                    issuer: dossier.branch_code.clone(),
                    issue_date: Some(timestamps::local_date(now)),
                    expiry_date: None,
                    origin_dossier_code: code,
                    create_time: now,
                };
                let name = document::name(&stored.document_id);
                let event = pb::IntakeEvent {
                    envelope: None,
                    payload: Some(Payload::DocumentAdded(pb::DocumentAdded {
                        document: name.clone(),
                        source: stored.source,
                        document_type: stored.document_type.clone(),
                        origin_dossier_code: stored.origin_dossier_code.clone(),
                    })),
                };
                let event = NewEvent {
                    occur_time: now,
                    subject: name.clone(),
                    request_id: request.request_id.clone(),
                    event_type: "document_added".to_owned(),
                    payload: event.encode_to_vec(),
                };
                let sha256 = stored.sha256.clone();
                let owner_key_hash = applicant::index_hash(&self.state.applicant_index_key, &stored.owner_key);
                let new = NewDocument { owner_key_hash, document: stored, content: file.content.clone(), event };
                Ok(ResultDocument { name, sha256, new: Some(new) })
            }
            None => Err(ApiError::internal("validation passed without a result document")),
        }
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
        caller.check_branch(&dossier.branch_code)?;
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
