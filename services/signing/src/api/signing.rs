//! Sign and Seal: an officer's CMS signature over a document, and the branch leader's approval that
//! applies the branch seal after it; each a record, an event and a leaf of the transparency log,
//! committed together in a batch of acts (see [`crate::batcher`]). Everything an act can do before
//! it is logged (validation, its certificate and chain, the CMS and its key operation) it does here,
//! outside any lock.

use std::time::SystemTime;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use motcua_chassis::{ApiError, clock::Clock, idempotency::RequestKey, identity::Caller, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, seal_request, sign_request, signing_event::Payload};
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::{
    State,
    certificates::parse_certificate_name,
    convert::{certificate_name, signature_name, signature_to_proto},
    db_status, internal, issuing, status,
    validate::{MAX_SUBJECT, Violations, parse_name},
};
use crate::{
    batcher::{Act, Effects},
    cache::CachedChain,
    domain::{
        certificates::SubjectKind,
        cms,
        log_entry::{EntryKind, LogEntry},
        roles::{self, ApprovalRefusal, SignerRole},
    },
    store::{
        entities::{certificate, signature},
        signatures,
    },
};

/// A personal signature, as stored.
const KIND_PERSONAL: i16 = 1;
/// A seal, as stored.
const KIND_SEAL: i16 = 2;

fn not_active(subject: String, description: &str) -> Status {
    status(ApiError::FailedPrecondition {
        reason: "CERTIFICATE_NOT_ACTIVE",
        violation_type: "CERTIFICATE_STATE",
        subject,
        description: description.to_owned(),
    })
}

/// The signing time: now, to the second, as the CMS signingTime attribute (UTCTime) carries it.
fn signing_time(clock: &Clock) -> DateTime<Utc> {
    let now = clock.now();
    now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now)
}

/// The active certificate of `holder_id` of `kind` with `role` (any role for a seal): the one named,
/// or the newest; read from the holder cache (revocation is checked again when the act is logged).
async fn active_certificate(
    state: &State,
    holder_id: &str,
    kind: SubjectKind,
    role: Option<SignerRole>,
    named: Option<&str>,
) -> Result<Option<certificate::Model>, Status> {
    let now = state.clock.now();
    let rows = state.holders.certificates_of(&state.db, holder_id, kind as i16).await.map_err(db_status)?;
    Ok(rows
        .iter()
        .find(|row| {
            named.is_none_or(|named| row.certificate_id == named)
                && issuing::is_active(row, now)
                && role.is_none_or(|role| roles::decode(&row.roles).contains(&role))
        })
        .cloned())
}

/// The CMS signature over `document_sha256` with the key of `row`, carrying its cached `chain`.
fn cms_signature(
    state: &State,
    row: &certificate::Model,
    chain: &CachedChain,
    document_sha256: &[u8; 32],
    sign_time: DateTime<Utc>,
) -> Result<Vec<u8>, Status> {
    let key = state.keys.key_of(row).map_err(internal)?.ok_or_else(|| {
        not_active(certificate_name(&row.certificate_id), "signing holds no key for this certificate")
    })?;
    let attributes =
        cms::signed_attributes(document_sha256, SystemTime::from(sign_time), &chain.certificate).map_err(internal)?;
    let signature = key.sign(&cms::to_be_signed(&attributes).map_err(internal)?).map_err(internal)?;
    cms::assemble(
        &chain.certificate,
        &chain.carried,
        attributes,
        key.algorithm().signature_algorithm().map_err(internal)?,
        &signature,
    )
    .map_err(internal)
}

/// The refusal of an act whose certificate was revoked before the act could be logged: a revocation
/// also appends a leaf, so whichever takes the log's head first is first, and a signature never
/// follows its certificate's revocation in the log.
fn revoked(certificate_id: &str, description: &str) -> (String, Status) {
    (certificate_id.to_owned(), not_active(certificate_name(certificate_id), description))
}

/// Logs `act` in the replica's batch and decodes its response (or the response of an earlier call
/// with the same request id).
async fn logged<R: Message + Default>(state: &State, act: Act) -> Result<R, Status> {
    let response = state.batcher.submit(act).await?;
    R::decode(response.as_slice()).map_err(internal)
}

/// The caller the chassis's guard established; every guarded request has one.
pub(super) fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
    Caller::of(request).map_err(status)
}

pub(super) async fn sign(state: &State, caller: &Caller, request: pb::SignRequest) -> Result<pb::SignResponse, Status> {
    let key = RequestKey::new(&request.request_id, "Sign", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    let signer_id = violations.required_code("signer_id", &request.signer_id);
    let named = if request.certificate.is_empty() {
        None
    } else {
        match parse_certificate_name(&request.certificate, "certificate") {
            Ok(id) => Some(id.to_owned()),
            Err(_) => {
                violations.add("certificate", "expected certificates/{64 lowercase hex digits}");
                None
            }
        }
    };
    let (document, digest) = match &request.content {
        Some(sign_request::Content::Document(document)) => (Some(document.as_slice()), None),
        Some(sign_request::Content::DocumentSha256(digest)) => (None, Some(digest.as_slice())),
        None => (None, None),
    };
    let document_sha256 = violations.document_digest(document, digest);
    violations.text_within("subject", &request.subject, false, MAX_SUBJECT);
    violations.check("INVALID_SIGN_REQUEST")?;

    let row = active_certificate(state, &signer_id, SubjectKind::Person, Some(SignerRole::Officer), named.as_deref())
        .await?
        .ok_or_else(|| {
            not_active(
                format!("signers/{signer_id}"),
                "the signer has no active personal certificate with the officer role (revoked, expired or missing)",
            )
        })?;
    // A caller limited to some branches signs with their certificates only.
    caller.check_branch(&row.branch_code).map_err(status)?;
    let chain = state.chains.chain_of(&state.db, &row).await.map_err(db_status)?;
    let sign_time = signing_time(&state.clock);
    let cms_der = cms_signature(state, &row, &chain, &document_sha256, sign_time)?;
    let entry = LogEntry {
        kind: EntryKind::Signature,
        document_sha256: Some(document_sha256),
        signature_sha256: Some(Sha256::digest(&cms_der).into()),
        certificate_sha256: certificate_hash(&row)?,
        time: sign_time,
    };
    let record = signature::Model {
        signature_id: uuid::Uuid::new_v4().to_string(),
        kind: KIND_PERSONAL,
        subject: request.subject.clone(),
        document_sha256: document_sha256.to_vec(),
        cms_sha256: Sha256::digest(&cms_der).to_vec(),
        cms_der,
        certificate_id: row.certificate_id.clone(),
        chain_sha256: chain.chain_sha256.to_vec(),
        signer_id: signer_id.clone(),
        signer_name: row.display_name.clone(),
        signer_role: SignerRole::Officer as i16,
        branch_code: row.branch_code.clone(),
        approver_id: String::new(),
        approver_name: String::new(),
        officer_signature_id: None,
        sign_time,
        check_state: pb::CertificateState::Active as i16,
        check_crl_number: 0,
        check_time: super::now(&state.clock),
        log_index: 0,
    };
    let (chain_pem, key_algorithm) = (chain.chain_pem.clone(), i32::from(row.key_algorithm));
    let effects = move |record: &signature::Model| Effects {
        response: pb::SignResponse { signature: Some(signature_to_proto(record, &chain_pem, true)) }.encode_to_vec(),
        subject: signature_name(&record.signature_id),
        event_type: "document_signed",
        payload: Payload::DocumentSigned(pb::DocumentSigned {
            signature: signature_name(&record.signature_id),
            subject: record.subject.clone(),
            certificate: certificate_name(&record.certificate_id),
            branch_code: record.branch_code.clone(),
            key_algorithm,
            sign_time: Some(timestamps::to_proto(record.sign_time)),
            log_index: record.log_index,
        }),
    };
    let act = Act {
        key,
        leaf_data: entry.to_leaf_data(),
        unrevoked: vec![revoked(&row.certificate_id, "the certificate was revoked")],
        crl_authority: row.issuer_authority_id.clone(),
        record,
        effects: Box::new(effects),
    };
    logged(state, act).await
}

fn certificate_hash(row: &certificate::Model) -> Result<[u8; 32], Status> {
    let bytes = hex::decode(&row.certificate_id).map_err(internal)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(internal)
}

fn officer_signature_required(subject: &str, description: &str) -> Status {
    status(ApiError::FailedPrecondition {
        reason: "OFFICER_SIGNATURE_REQUIRED",
        violation_type: "SIGNATURE_ORDER",
        subject: subject.to_owned(),
        description: description.to_owned(),
    })
}

pub(super) async fn seal(state: &State, caller: &Caller, request: pb::SealRequest) -> Result<pb::SealResponse, Status> {
    let key = RequestKey::new(&request.request_id, "Seal", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    let officer_signature_id = match parse_name(&request.officer_signature, "signatures", "officer_signature", 36) {
        Ok(id) => id.to_owned(),
        Err(_) => {
            violations.add("officer_signature", "required: signatures/{signature_id}");
            String::new()
        }
    };
    let approver_id = violations.required_code("approver_id", &request.approver_id);
    let (document, digest) = match &request.content {
        Some(seal_request::Content::Document(document)) => (Some(document.as_slice()), None),
        Some(seal_request::Content::DocumentSha256(digest)) => (None, Some(digest.as_slice())),
        None => (None, None),
    };
    let document_sha256 = violations.document_digest(document, digest);
    violations.check("INVALID_SEAL_REQUEST")?;

    let officer_signature = signatures::get(&state.db, &officer_signature_id)
        .await
        .map_err(db_status)?
        .filter(|record| record.kind == KIND_PERSONAL)
        .ok_or_else(|| {
            officer_signature_required(
                &request.officer_signature,
                "no officer's signature by this name: the seal comes after it",
            )
        })?;
    if officer_signature.document_sha256 != document_sha256 {
        return Err(officer_signature_required(
            &request.officer_signature,
            "the officer's signature covers another document",
        ));
    }
    let branch_code = officer_signature.branch_code.clone();
    caller.check_branch(&branch_code).map_err(status)?;
    let approver =
        active_certificate(state, &approver_id, SubjectKind::Person, None, None).await?.ok_or_else(|| {
            not_active(format!("signers/{approver_id}"), "the approver has no active personal certificate")
        })?;
    let approver_roles = roles::decode(&approver.roles);
    if let Err(refusal) = roles::may_approve(&approver_roles, &approver.branch_code, &branch_code) {
        let description = match refusal {
            ApprovalRefusal::NotAnApprover => "the leader's certificate lacks the approver role",
            ApprovalRefusal::OtherBranch => "the leader belongs to another branch than the officer's signature",
        };
        return Err(status(ApiError::FailedPrecondition {
            reason: "APPROVER_NOT_ALLOWED",
            violation_type: "APPROVER",
            subject: format!("signers/{approver_id}"),
            description: description.to_owned(),
        }));
    }
    let seal_row = active_certificate(state, &branch_code, SubjectKind::Organisation, None, None)
        .await?
        .ok_or_else(|| not_active(format!("branches/{branch_code}"), "the branch has no active seal certificate"))?;
    let chain = state.chains.chain_of(&state.db, &seal_row).await.map_err(db_status)?;
    let sign_time = signing_time(&state.clock);
    let cms_der = cms_signature(state, &seal_row, &chain, &document_sha256, sign_time)?;
    let entry = LogEntry {
        kind: EntryKind::Seal,
        document_sha256: Some(document_sha256),
        signature_sha256: Some(Sha256::digest(&cms_der).into()),
        certificate_sha256: certificate_hash(&seal_row)?,
        time: sign_time,
    };

    let record = signature::Model {
        signature_id: uuid::Uuid::new_v4().to_string(),
        kind: KIND_SEAL,
        subject: officer_signature.subject.clone(),
        document_sha256: document_sha256.to_vec(),
        cms_sha256: Sha256::digest(&cms_der).to_vec(),
        cms_der,
        certificate_id: seal_row.certificate_id.clone(),
        chain_sha256: chain.chain_sha256.to_vec(),
        signer_id: branch_code.clone(),
        signer_name: seal_row.display_name.clone(),
        signer_role: SignerRole::Approver as i16,
        branch_code: branch_code.clone(),
        approver_id: approver_id.clone(),
        approver_name: approver.display_name.clone(),
        officer_signature_id: Some(officer_signature.signature_id.clone()),
        sign_time,
        check_state: pb::CertificateState::Active as i16,
        check_crl_number: 0,
        check_time: super::now(&state.clock),
        log_index: 0,
    };
    let chain_pem = chain.chain_pem.clone();
    let effects = move |record: &signature::Model| Effects {
        response: pb::SealResponse { seal: Some(signature_to_proto(record, &chain_pem, true)) }.encode_to_vec(),
        subject: signature_name(&record.signature_id),
        event_type: "document_sealed",
        payload: Payload::DocumentSealed(pb::DocumentSealed {
            signature: signature_name(&record.signature_id),
            officer_signature: record.officer_signature_id.as_deref().map(signature_name).unwrap_or_default(),
            subject: record.subject.clone(),
            certificate: certificate_name(&record.certificate_id),
            branch_code: record.branch_code.clone(),
            sign_time: Some(timestamps::to_proto(record.sign_time)),
            log_index: record.log_index,
        }),
    };
    let act = Act {
        key,
        leaf_data: entry.to_leaf_data(),
        // The approver's own certificate must still be unrevoked too.
        unrevoked: vec![
            revoked(&seal_row.certificate_id, "the certificate was revoked"),
            revoked(&approver.certificate_id, "the approver's certificate was revoked"),
        ],
        crl_authority: seal_row.issuer_authority_id.clone(),
        record,
        effects: Box::new(effects),
    };
    logged(state, act).await
}
