//! Revocation and CRLs: revoking a certificate with a reason (a leaf of the log, and a new signed CRL
//! of its issuer, in one transaction), and serving an authority's CRLs.

use motcua_chassis::{ApiError, idempotency::RequestKey, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, signing_event::Payload};
use prost::Message;
use tonic::Status;

use super::{
    Begun, State,
    authorities::AUTHORITY_TYPE,
    begin_claimed,
    certificates::{CERTIFICATE_TYPE, chain_pem_of, parse_certificate_name},
    convert::{certificate_name, certificate_to_proto},
    db_status, finish_claimed, internal, issuing, status,
    validate::{MAX_REVOCATION_NOTE, Violations, parse_name},
};
use crate::{
    domain::log_entry::{EntryKind, LogEntry},
    store::{log, pki},
};

/// The RFC 5280 reason codes a revocation may give.
const REASONS: [i32; 6] = [1, 2, 3, 4, 5, 9];

pub(super) async fn revoke(
    state: &State,
    request: pb::RevokeCertificateRequest,
) -> Result<pb::RevokeCertificateResponse, Status> {
    let key = RequestKey::new(&request.request_id, "RevokeCertificate", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    let certificate_id = match parse_certificate_name(&request.name, "name") {
        Ok(id) => id.to_owned(),
        Err(_) => {
            violations.add("name", "required: certificates/{certificate_id}");
            String::new()
        }
    };
    if !REASONS.contains(&request.reason) {
        violations.add("reason", "required: a revocation reason");
    }
    violations.text_within("note", &request.note, false, MAX_REVOCATION_NOTE);
    violations.check("INVALID_REVOCATION")?;

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    let row = pki::certificate(&transaction, &certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(CERTIFICATE_TYPE, request.name.clone())))?;
    let certificate_sha256: [u8; 32] = hex::decode(&row.certificate_id)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| internal("a certificate id is not a SHA-256"))?;
    let revoked_at = super::now(&state.clock);
    let entry = LogEntry {
        kind: EntryKind::Revocation,
        document_sha256: None,
        signature_sha256: None,
        certificate_sha256,
        time: revoked_at,
    };
    // The log's head first: from here no signing act with this certificate can commit in between.
    let log_index = log::append_leaf(&transaction, entry.to_leaf_data()).await.map_err(db_status)?;
    let row = pki::certificate(&transaction, &certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(CERTIFICATE_TYPE, request.name.clone())))?;
    if row.revoked_at.is_some() {
        return Err(status(ApiError::FailedPrecondition {
            reason: "ALREADY_REVOKED",
            violation_type: "CERTIFICATE_STATE",
            subject: request.name.clone(),
            description: "the certificate is already revoked".to_owned(),
        }));
    }
    let reason = request.reason as i16;
    pki::revoke(&transaction, &certificate_id, reason, &request.note, revoked_at, log_index)
        .await
        .map_err(db_status)?;
    // The issuer's next CRL lists it at once, when signing holds the issuer's key.
    if let Some(issuer_id) = &row.issuer_authority_id
        && let Some(authority) = pki::authority(&transaction, issuer_id).await.map_err(db_status)?
        && let Some(issuer_row) = pki::certificate(&transaction, &authority.certificate_id).await.map_err(db_status)?
        && let Some(signer) = issuing::open_signer(state, issuer_row)?
    {
        let revoked = pki::revoked_by(&transaction, issuer_id).await.map_err(db_status)?;
        let crl = issuing::issue_crl(&authority, &signer, &revoked, revoked_at)?;
        pki::store_crl(&transaction, crl).await.map_err(db_status)?;
    }
    let row = pki::certificate(&transaction, &certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| internal("the revoked certificate vanished"))?;
    let chain_pem = chain_pem_of(&transaction, &row).await?;
    let response =
        pb::RevokeCertificateResponse { certificate: Some(certificate_to_proto(&row, chain_pem, state.clock.now())) };
    let event = Payload::CertificateRevoked(pb::CertificateRevoked {
        certificate: certificate_name(&certificate_id),
        subject_kind: i32::from(row.subject_kind),
        branch_code: row.branch_code.clone(),
        reason: request.reason,
        revoke_time: Some(timestamps::to_proto(revoked_at)),
        log_index,
    });
    finish_claimed(
        state,
        transaction,
        &key,
        &response,
        (certificate_name(&certificate_id), "certificate_revoked", event),
    )
    .await?;
    state.log.wake();
    Ok(response)
}

pub(super) async fn crl(state: &State, request: pb::GetCrlRequest) -> Result<pb::GetCrlResponse, Status> {
    let authority_id = parse_name(&request.authority, "authorities", "authority", 63)?;
    let number = match request.crl_number {
        0 => None,
        number if number > 0 => Some(number),
        _ => return Err(status(ApiError::invalid("INVALID_CRL_NUMBER", "crl_number", "must not be negative"))),
    };
    if pki::authority(&state.db, authority_id).await.map_err(db_status)?.is_none() {
        return Err(status(ApiError::not_found(AUTHORITY_TYPE, request.authority.clone())));
    }
    let row = pki::crl(&state.db, authority_id, number).await.map_err(db_status)?.ok_or_else(|| {
        status(ApiError::not_found(
            "motcua.signing.v1.Crl",
            format!("{}/crls/{}", request.authority, request.crl_number),
        ))
    })?;
    let crl_pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &row.crl_der).map_err(internal)?;
    Ok(pb::GetCrlResponse {
        authority: request.authority,
        crl_number: row.crl_number,
        this_update: Some(timestamps::to_proto(row.this_update)),
        next_update: Some(timestamps::to_proto(row.next_update)),
        crl_der: row.crl_der,
        crl_pem,
    })
}
