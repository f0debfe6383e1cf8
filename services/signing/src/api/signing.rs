//! Sign and Seal: an officer's CMS signature over a document, and the branch leader's approval that
//! applies the branch seal after it; each a record, an event and a leaf of the transparency log,
//! committed together.

use std::time::SystemTime;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use motcua_chassis::{ApiError, clock::Clock, idempotency::RequestKey, identity::Caller, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, seal_request, sign_request, signing_event::Payload};
use prost::Message;
use sea_orm::DatabaseTransaction;
use sha2::{Digest, Sha256};
use tonic::Status;
use x509_cert::Certificate;

use super::{
    Begun, State, begin_claimed,
    certificates::parse_certificate_name,
    convert::{certificate_name, signature_name, signature_to_proto},
    db_status, finish_claimed, internal,
    issuing::{self, Signer},
    status,
    validate::{MAX_SUBJECT, Violations, parse_name},
};
use crate::{
    domain::{
        certificates::SubjectKind,
        cms,
        log_entry::{EntryKind, LogEntry},
        roles::{self, ApprovalRefusal, SignerRole},
    },
    store::{
        entities::{certificate, signature},
        log, pki, signatures,
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
/// or the newest.
async fn active_certificate(
    state: &State,
    holder_id: &str,
    kind: SubjectKind,
    role: Option<SignerRole>,
    named: Option<&str>,
) -> Result<Option<certificate::Model>, Status> {
    let now = state.clock.now();
    let rows = pki::certificates_of_holder(&state.db, holder_id, kind as i16).await.map_err(db_status)?;
    Ok(rows.into_iter().find(|row| {
        named.is_none_or(|named| row.certificate_id == named)
            && issuing::is_active(row, now)
            && role.is_none_or(|role| roles::decode(&row.roles).contains(&role))
    }))
}

/// The CMS signature over `document_sha256` by `signer`, with the chain it carries.
fn cms_signature(
    signer: &Signer,
    chain: &[certificate::Model],
    document_sha256: &[u8; 32],
    sign_time: DateTime<Utc>,
) -> Result<Vec<u8>, Status> {
    let attributes =
        cms::signed_attributes(document_sha256, SystemTime::from(sign_time), &signer.certificate).map_err(internal)?;
    let signature = signer.key.sign(&cms::to_be_signed(&attributes).map_err(internal)?).map_err(internal)?;
    let mut carried = Vec::with_capacity(chain.len());
    for row in chain {
        carried.push(<Certificate as der::Decode>::from_der(&row.certificate_der).map_err(internal)?);
    }
    cms::assemble(
        &signer.certificate,
        &carried,
        attributes,
        signer.key.algorithm().signature_algorithm().map_err(internal)?,
        &signature,
    )
    .map_err(internal)
}

/// Appends the act's leaf, then checks inside the same transaction that the certificate was not
/// revoked meanwhile: a revocation also appends a leaf, so whichever takes the log's head first is
/// first, and a signature never follows its certificate's revocation in the log.
async fn append_after_revocation_check(
    transaction: &DatabaseTransaction,
    entry: &LogEntry,
    certificate_id: &str,
) -> Result<i64, Status> {
    let log_index = log::append_leaf(transaction, entry.to_leaf_data()).await.map_err(db_status)?;
    let current = pki::certificate(transaction, certificate_id).await.map_err(db_status)?;
    if current.is_none_or(|row| row.revoked_at.is_some()) {
        return Err(not_active(certificate_name(certificate_id), "the certificate was revoked"));
    }
    Ok(log_index)
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
    let chain = pki::chain(&state.db, row.clone()).await.map_err(db_status)?;
    let signer = issuing::open_signer(state, row.clone())?.ok_or_else(|| {
        not_active(certificate_name(&row.certificate_id), "signing holds no key for this certificate")
    })?;
    let crl_number = crl_number_of(state, &row).await?;
    let sign_time = signing_time(&state.clock);
    let cms_der = cms_signature(&signer, &chain, &document_sha256, sign_time)?;
    let entry = LogEntry {
        kind: EntryKind::Signature,
        document_sha256: Some(document_sha256),
        signature_sha256: Some(Sha256::digest(&cms_der).into()),
        certificate_sha256: certificate_hash(&row)?,
        time: sign_time,
    };

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    let log_index = append_after_revocation_check(&transaction, &entry, &row.certificate_id).await?;
    let record = signature::Model {
        signature_id: uuid::Uuid::new_v4().to_string(),
        kind: KIND_PERSONAL,
        subject: request.subject.clone(),
        document_sha256: document_sha256.to_vec(),
        cms_der,
        certificate_id: row.certificate_id.clone(),
        chain_pem: chain_pem(&chain),
        signer_id: signer_id.clone(),
        signer_name: row.display_name.clone(),
        signer_role: SignerRole::Officer as i16,
        branch_code: row.branch_code.clone(),
        approver_id: String::new(),
        approver_name: String::new(),
        officer_signature_id: None,
        sign_time,
        check_state: pb::CertificateState::Active as i16,
        check_crl_number: crl_number,
        check_time: super::now(&state.clock),
        log_index,
    };
    signatures::insert(&transaction, record.clone()).await.map_err(db_status)?;
    let response = pb::SignResponse { signature: Some(signature_to_proto(&record, true)) };
    let event = Payload::DocumentSigned(pb::DocumentSigned {
        signature: signature_name(&record.signature_id),
        subject: record.subject.clone(),
        certificate: certificate_name(&record.certificate_id),
        branch_code: record.branch_code.clone(),
        key_algorithm: i32::from(row.key_algorithm),
        sign_time: Some(timestamps::to_proto(sign_time)),
        log_index,
    });
    finish_claimed(
        state,
        transaction,
        &key,
        &response,
        (signature_name(&record.signature_id), "document_signed", event),
    )
    .await?;
    state.log.wake();
    Ok(response)
}

/// The number of the issuing authority's current CRL: the revocation check made at signing time.
async fn crl_number_of(state: &State, row: &certificate::Model) -> Result<i64, Status> {
    let Some(issuer) = &row.issuer_authority_id else { return Ok(0) };
    Ok(pki::authority(&state.db, issuer).await.map_err(db_status)?.map_or(0, |authority| authority.crl_number))
}

/// The PEM of a chain read before the transaction, so the log's head is held for less time.
fn chain_pem(chain: &[certificate::Model]) -> String {
    crate::domain::certificates::chain_pem(&chain.iter().map(|row| row.certificate_der.clone()).collect::<Vec<_>>())
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
    let chain = pki::chain(&state.db, seal_row.clone()).await.map_err(db_status)?;
    let signer = issuing::open_signer(state, seal_row.clone())?
        .ok_or_else(|| not_active(certificate_name(&seal_row.certificate_id), "signing holds no key for the seal"))?;
    let crl_number = crl_number_of(state, &seal_row).await?;
    let sign_time = signing_time(&state.clock);
    let cms_der = cms_signature(&signer, &chain, &document_sha256, sign_time)?;
    let entry = LogEntry {
        kind: EntryKind::Seal,
        document_sha256: Some(document_sha256),
        signature_sha256: Some(Sha256::digest(&cms_der).into()),
        certificate_sha256: certificate_hash(&seal_row)?,
        time: sign_time,
    };

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    let log_index = append_after_revocation_check(&transaction, &entry, &seal_row.certificate_id).await?;
    // The approver's own certificate must still be unrevoked too.
    if pki::certificate(&transaction, &approver.certificate_id)
        .await
        .map_err(db_status)?
        .is_none_or(|row| row.revoked_at.is_some())
    {
        return Err(not_active(certificate_name(&approver.certificate_id), "the approver's certificate was revoked"));
    }
    let record = signature::Model {
        signature_id: uuid::Uuid::new_v4().to_string(),
        kind: KIND_SEAL,
        subject: officer_signature.subject.clone(),
        document_sha256: document_sha256.to_vec(),
        cms_der,
        certificate_id: seal_row.certificate_id.clone(),
        chain_pem: chain_pem(&chain),
        signer_id: branch_code.clone(),
        signer_name: seal_row.display_name.clone(),
        signer_role: SignerRole::Approver as i16,
        branch_code: branch_code.clone(),
        approver_id: approver_id.clone(),
        approver_name: approver.display_name.clone(),
        officer_signature_id: Some(officer_signature.signature_id.clone()),
        sign_time,
        check_state: pb::CertificateState::Active as i16,
        check_crl_number: crl_number,
        check_time: super::now(&state.clock),
        log_index,
    };
    signatures::insert(&transaction, record.clone()).await.map_err(db_status)?;
    let response = pb::SealResponse { seal: Some(signature_to_proto(&record, true)) };
    let event = Payload::DocumentSealed(pb::DocumentSealed {
        signature: signature_name(&record.signature_id),
        officer_signature: signature_name(&officer_signature.signature_id),
        subject: record.subject.clone(),
        certificate: certificate_name(&record.certificate_id),
        branch_code,
        sign_time: Some(timestamps::to_proto(sign_time)),
        log_index,
    });
    finish_claimed(
        state,
        transaction,
        &key,
        &response,
        (signature_name(&record.signature_id), "document_sealed", event),
    )
    .await?;
    state.log.wake();
    Ok(response)
}
