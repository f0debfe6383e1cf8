//! Signature records (get, list) and the verification of any signature over a document.

use std::{collections::HashMap, time::SystemTime};

use chrono::{DateTime, Utc};
use der::Decode;
use motcua_chassis::{ApiError, paging, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, verify_signature_request};
use tonic::Status;
use x509_cert::Certificate;

use super::{
    State,
    convert::{certificate_name, certificate_state, signature_name, signature_to_proto},
    db_status, status,
    validate::{Violations, parse_name},
};
use crate::{
    domain::{
        certificates::{self, OID_COMMON_NAME, OID_ORGANIZATIONAL_UNIT, SubjectKind},
        cms,
        roles::{self, SignerRole},
        verification::{self, Failure, HeldCertificate},
    },
    store::{pki, signatures},
};

/// The resource type of a signature, for NOT_FOUND.
pub(crate) const SIGNATURE_TYPE: &str = "motcua.signing.v1.Signature";

pub(super) async fn get(state: &State, request: pb::GetSignatureRequest) -> Result<pb::Signature, Status> {
    let signature_id = parse_name(&request.name, "signatures", "name", 36)?;
    let record = signatures::get(&state.db, signature_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(SIGNATURE_TYPE, request.name.clone())))?;
    let chains = state.chains.chains_pem(&state.db, [record.chain_sha256.clone()]).await.map_err(db_status)?;
    let chain_pem = chains.get(&record.chain_sha256).map_or("", |pem| pem);
    Ok(signature_to_proto(&record, chain_pem, true))
}

pub(super) async fn list(
    state: &State,
    request: pb::ListSignaturesRequest,
) -> Result<pb::ListSignaturesResponse, Status> {
    let page_size = paging::page_size(request.page_size).map_err(status)?;
    let mut violations = Violations::default();
    let kind = match pb::SignatureKind::try_from(request.kind) {
        Ok(pb::SignatureKind::Unspecified) => None,
        Ok(kind) => Some(kind as i16),
        Err(_) => {
            violations.add("kind", "not a known signature kind");
            None
        }
    };
    let certificate_id = if request.certificate.is_empty() {
        None
    } else {
        match super::certificates::parse_certificate_name(&request.certificate, "certificate") {
            Ok(id) => Some(id.to_owned()),
            Err(_) => {
                violations.add("certificate", "expected certificates/{64 lowercase hex digits}");
                None
            }
        }
    };
    let time = |field: &str, timestamp: &Option<prost_types::Timestamp>, violations: &mut Violations| {
        timestamp.as_ref().and_then(|timestamp| {
            let time = timestamps::from_proto(timestamp);
            if time.is_none() {
                violations.add(field, "out of range");
            }
            time
        })
    };
    let start_time = time("start_time", &request.start_time, &mut violations);
    let end_time = time("end_time", &request.end_time, &mut violations);
    violations.check("INVALID_FILTER")?;
    let filter = signatures::SignatureFilter {
        subject: Some(request.subject.clone()).filter(|subject| !subject.is_empty()),
        branch_code: Some(request.branch_code.clone()).filter(|code| !code.is_empty()),
        kind,
        certificate_id,
        start_time,
        end_time,
    };
    let filter_text = format!("{filter:?}");
    let before = paging::decode_token(&request.page_token, &filter_text)
        .map_err(status)?
        .map(|position| {
            position.parse::<i64>().map_err(|_| {
                status(ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service"))
            })
        })
        .transpose()?;
    let mut rows = signatures::list(&state.db, &filter, before, page_size + 1).await.map_err(db_status)?;
    let next_page_token = if rows.len() as u64 > page_size {
        rows.truncate(page_size as usize);
        rows.last().map(|last| paging::encode_token(&last.log_index.to_string(), &filter_text)).unwrap_or_default()
    } else {
        String::new()
    };
    let chains =
        state.chains.chains_pem(&state.db, rows.iter().map(|row| row.chain_sha256.clone())).await.map_err(db_status)?;
    Ok(pb::ListSignaturesResponse {
        signatures: rows
            .iter()
            .map(|row| signature_to_proto(row, chains.get(&row.chain_sha256).map_or("", |pem| pem), false))
            .collect(),
        next_page_token,
    })
}

pub(super) async fn verify(
    state: &State,
    request: pb::VerifySignatureRequest,
) -> Result<pb::VerifySignatureResponse, Status> {
    let mut violations = Violations::default();
    let (document, digest) = match &request.content {
        Some(verify_signature_request::Content::Document(document)) => (Some(document.as_slice()), None),
        Some(verify_signature_request::Content::DocumentSha256(digest)) => (None, Some(digest.as_slice())),
        None => (None, None),
    };
    let document_sha256 = violations.document_digest(document, digest);
    let cms_der = match &request.signature_source {
        Some(verify_signature_request::SignatureSource::CmsDer(bytes)) if !bytes.is_empty() => bytes.clone(),
        Some(verify_signature_request::SignatureSource::Signature(name)) => {
            let signature_id = parse_name(name, "signatures", "signature", 36)?;
            let record = signatures::get(&state.db, signature_id)
                .await
                .map_err(db_status)?
                .ok_or_else(|| status(ApiError::not_found(SIGNATURE_TYPE, name.clone())))?;
            record.cms_der
        }
        _ => {
            violations.add("signature", "required: a signature's name or the CMS bytes");
            Vec::new()
        }
    };
    violations.check("INVALID_VERIFY_REQUEST")?;

    let Ok(parsed) = cms::parse(&cms_der) else {
        return Ok(pb::VerifySignatureResponse {
            valid: false,
            failure: pb::VerificationFailure::Malformed as i32,
            ..Default::default()
        });
    };
    let mut revocations: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut authorities = Vec::new();
    for (_, row) in pki::authorities_with_certificates(&state.db).await.map_err(db_status)? {
        let Ok(certificate) = Certificate::from_der(&row.certificate_der) else { continue };
        if let Some(revoked_at) = row.revoked_at {
            revocations.insert(row.certificate_id.clone(), revoked_at);
        }
        authorities.push(HeldCertificate { certificate, revoked_at: row.revoked_at.map(SystemTime::from) });
    }
    let signer_row = match &parsed.signer {
        Some(signer) => {
            let der = der::Encode::to_der(signer).map_err(super::internal)?;
            pki::certificate(&state.db, &certificates::fingerprint(&der)).await.map_err(db_status)?
        }
        None => None,
    };
    if let Some(revoked_at) = signer_row.as_ref().and_then(|row| row.revoked_at) {
        revocations.insert(signer_row.as_ref().map(|row| row.certificate_id.clone()).unwrap_or_default(), revoked_at);
    }
    let outcome = verification::verify(&parsed, &document_sha256, &authorities, |certificate| {
        let der = der::Encode::to_der(certificate).ok()?;
        revocations.get(&certificates::fingerprint(&der)).map(|time| SystemTime::from(*time))
    });
    // A record of these CMS bytes, made with this signer's certificate over this document.
    let record = match &signer_row {
        Some(row) => signatures::find_by_cms(&state.db, &cms_der).await.map_err(db_status)?.filter(|record| {
            record.certificate_id == row.certificate_id && record.document_sha256 == document_sha256.as_slice()
        }),
        None => None,
    };
    let subject_kind = signer_row.as_ref().and_then(|row| SubjectKind::from_code(i32::from(row.subject_kind)));
    let signer_name = match (&signer_row, &parsed.signer) {
        (Some(row), _) => row.display_name.clone(),
        (None, Some(signer)) => {
            certificates::name_attribute(&signer.tbs_certificate.subject, OID_COMMON_NAME).unwrap_or_default()
        }
        _ => String::new(),
    };
    let branch_code = match (&signer_row, &parsed.signer) {
        (Some(row), _) => row.branch_code.clone(),
        (None, Some(signer)) => {
            certificates::name_attribute(&signer.tbs_certificate.subject, OID_ORGANIZATIONAL_UNIT).unwrap_or_default()
        }
        _ => String::new(),
    };
    let (kind, signer_role) = match subject_kind {
        Some(SubjectKind::Organisation) => (pb::SignatureKind::Seal, SignerRole::Approver as i32),
        Some(SubjectKind::Person) => {
            let role = record.as_ref().map_or_else(
                || {
                    roles::decode(&signer_row.as_ref().map(|row| row.roles.clone()).unwrap_or_default())
                        .first()
                        .map_or(0, |role| *role as i32)
                },
                |record| i32::from(record.signer_role),
            );
            (pb::SignatureKind::Personal, role)
        }
        _ => (pb::SignatureKind::Unspecified, 0),
    };
    let now = state.clock.now();
    Ok(pb::VerifySignatureResponse {
        valid: outcome.failure.is_none(),
        failure: outcome.failure.map_or(0, Failure::code),
        kind: kind as i32,
        signer_name,
        signer_role,
        branch_code,
        sign_time: outcome.signing_time.map(|time| timestamps::to_proto(DateTime::<Utc>::from(time))),
        approver_name: record.as_ref().map(|record| record.approver_name.clone()).unwrap_or_default(),
        certificate: signer_row.as_ref().map(|row| certificate_name(&row.certificate_id)).unwrap_or_default(),
        certificate_state: signer_row.as_ref().map_or(0, |row| certificate_state(row, now) as i32),
        revoke_time: signer_row.as_ref().and_then(|row| row.revoked_at).map(timestamps::to_proto),
        signature: record.as_ref().map(|record| signature_name(&record.signature_id)).unwrap_or_default(),
        logged: record.is_some(),
        log_index: record.as_ref().map_or(0, |record| record.log_index),
    })
}
