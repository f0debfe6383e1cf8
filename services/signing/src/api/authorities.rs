//! Certificate authorities: a deployment's root and its branches' intermediates.

use motcua_chassis::{ApiError, idempotency::RequestKey, paging};
use motcua_proto::motcua::signing::v1::{self as pb, signing_event::Payload};
use prost::Message;
use tonic::Status;

use super::{
    Begun, State, begin_claimed,
    convert::{authority_name, authority_to_proto, certificate_name, certificate_to_proto},
    db_status, finish_claimed,
    issuing::{self, NewCertificate},
    status,
    validate::{Violations, is_plain_id, parse_name},
};
use crate::{
    domain::{
        algorithms::KeyAlgorithm,
        certificates::{self, SubjectKind},
    },
    store::{entities::authority, pki},
};

/// The resource type of an authority, for NOT_FOUND.
pub(crate) const AUTHORITY_TYPE: &str = "motcua.signing.v1.CertificateAuthority";
/// A root's default validity: twenty years.
const ROOT_VALIDITY_DAYS: u32 = 7305;
/// An intermediate's default validity: ten years.
const INTERMEDIATE_VALIDITY_DAYS: u32 = 3652;

/// A key algorithm of a request: unset means ECDSA P-256.
pub(crate) fn key_algorithm(violations: &mut Violations, number: i32) -> KeyAlgorithm {
    match number {
        0 => KeyAlgorithm::EcdsaP256,
        other => KeyAlgorithm::from_code(other).unwrap_or_else(|| {
            violations.add("key_algorithm", "not a known key algorithm");
            KeyAlgorithm::EcdsaP256
        }),
    }
}

/// Validity days of a request: 0 means `default`.
pub(crate) fn validity_days(violations: &mut Violations, days: i32, default: u32) -> u32 {
    match u32::try_from(days) {
        Ok(0) => default,
        Ok(days) if days <= 36_525 => days,
        _ => {
            violations.add("validity_days", "0 to 36525");
            default
        }
    }
}

pub(super) async fn create(
    state: &State,
    request: pb::CreateCertificateAuthorityRequest,
) -> Result<pb::CreateCertificateAuthorityResponse, Status> {
    let key =
        RequestKey::new(&request.request_id, "CreateCertificateAuthority", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    if !is_plain_id(&request.authority_id, 63) {
        violations.add("authority_id", "required: 1 to 63 lowercase letters, digits and hyphens");
    }
    let display_name = violations.display_name("display_name", &request.display_name);
    let algorithm = key_algorithm(&mut violations, request.key_algorithm);
    let kind = pb::AuthorityKind::try_from(request.kind).unwrap_or_default();
    let parent_id = match kind {
        pb::AuthorityKind::Root => {
            if !request.parent.is_empty() {
                violations.add("parent", "a root has no parent");
            }
            if !request.branch_code.is_empty() {
                violations.add("branch_code", "a root serves no single branch");
            }
            None
        }
        pb::AuthorityKind::Intermediate => {
            violations.required_code("branch_code", &request.branch_code);
            match parse_name(&request.parent, "authorities", "parent", 63) {
                Ok(parent) => Some(parent.to_owned()),
                Err(_) => {
                    violations.add("parent", "required: authorities/{authority_id} of a root");
                    None
                }
            }
        }
        pb::AuthorityKind::Unspecified => {
            violations.add("kind", "required: ROOT or INTERMEDIATE");
            None
        }
    };
    let default_days = if kind == pb::AuthorityKind::Root { ROOT_VALIDITY_DAYS } else { INTERMEDIATE_VALIDITY_DAYS };
    let validity_days = validity_days(&mut violations, request.validity_days, default_days);
    violations.check("INVALID_AUTHORITY")?;

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    if pki::authority(&transaction, &request.authority_id).await.map_err(db_status)?.is_some() {
        return Err(authority_exists(format!("authorities/{} already exists", request.authority_id)));
    }
    let issuer = match &parent_id {
        None => None,
        Some(parent_id) => {
            let parent = pki::authority(&transaction, parent_id)
                .await
                .map_err(db_status)?
                .ok_or_else(|| status(ApiError::not_found(AUTHORITY_TYPE, authority_name(parent_id))))?;
            if parent.kind != pb::AuthorityKind::Root as i16 {
                return Err(status(ApiError::invalid("INVALID_AUTHORITY", "parent", "must be a root")));
            }
            if pki::intermediate_of_branch(&transaction, &request.branch_code).await.map_err(db_status)?.is_some() {
                return Err(authority_exists(format!("branch {} already has an intermediate", request.branch_code)));
            }
            Some(issuer_of(state, &transaction, &parent).await?)
        }
    };
    let now = super::now(&state.clock);
    let new = NewCertificate {
        subject_kind: SubjectKind::Authority,
        holder_id: &request.authority_id,
        display_name: &display_name,
        branch_code: &request.branch_code,
        roles: &[],
        algorithm,
        validity_days,
        path_length: parent_id.as_ref().map(|_| 0),
        issuer_authority_id: parent_id.as_deref(),
    };
    let certificate_row = issuing::issue(state, &new, issuer.as_ref(), now).await?;
    pki::insert_certificate(&transaction, certificate_row.clone()).await.map_err(db_status)?;
    let authority_row = authority::Model {
        authority_id: request.authority_id.clone(),
        kind: kind as i16,
        branch_code: request.branch_code.clone(),
        parent_id: parent_id.clone(),
        display_name,
        certificate_id: certificate_row.certificate_id.clone(),
        imported: false,
        crl_number: 0,
        created_at: now,
    };
    pki::insert_authority(&transaction, authority_row.clone()).await.map_err(db_status)?;
    // Every authority has a CRL from the start, so a verifier can always fetch one.
    let signer = issuing::open_signer(state, certificate_row.clone())?
        .ok_or_else(|| status(ApiError::internal("the new authority's key is not in the key ring")))?;
    let first_crl = issuing::issue_crl(&authority_row, &signer, &[], now)?;
    pki::store_crl(&transaction, first_crl).await.map_err(db_status)?;
    let authority_row = authority::Model { crl_number: 1, ..authority_row };

    let chain = pki::chain(&transaction, certificate_row.clone()).await.map_err(db_status)?;
    let chain_pem = certificates::chain_pem(&chain.iter().map(|row| row.certificate_der.clone()).collect::<Vec<_>>());
    let response = pb::CreateCertificateAuthorityResponse {
        authority: Some(authority_to_proto(&authority_row, &certificate_row)),
        certificate: Some(certificate_to_proto(&certificate_row, chain_pem, now)),
    };
    let event = Payload::AuthorityCreated(pb::AuthorityCreated {
        authority: authority_name(&authority_row.authority_id),
        kind: i32::from(authority_row.kind),
        branch_code: authority_row.branch_code.clone(),
        key_algorithm: algorithm.code(),
        imported: false,
    });
    finish_claimed(
        state,
        transaction,
        &key,
        &response,
        (authority_name(&authority_row.authority_id), "authority_created", event),
    )
    .await?;
    tracing::info!(authority = %authority_row.authority_id, certificate = %certificate_name(&certificate_row.certificate_id), "authority created");
    Ok(response)
}

fn authority_exists(description: String) -> Status {
    status(ApiError::AlreadyExists { reason: "AUTHORITY_EXISTS", description })
}

/// The signer of an authority that can issue; FAILED_PRECONDITION when it holds no key.
pub(crate) async fn issuer_of(
    state: &State,
    connection: &impl sea_orm::ConnectionTrait,
    authority: &authority::Model,
) -> Result<issuing::Signer, Status> {
    let row = pki::certificate(connection, &authority.certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::internal("an authority's certificate is missing")))?;
    let now = super::now(&state.clock);
    if !issuing::is_active(&row, now) {
        return Err(status(ApiError::FailedPrecondition {
            reason: "CERTIFICATE_NOT_ACTIVE",
            violation_type: "CERTIFICATE_STATE",
            subject: authority_name(&authority.authority_id),
            description: "the authority's certificate is revoked, expired or not yet valid".to_owned(),
        }));
    }
    issuing::open_signer(state, row)?.ok_or_else(|| {
        status(ApiError::FailedPrecondition {
            reason: "AUTHORITY_CANNOT_ISSUE",
            violation_type: "KEY",
            subject: authority_name(&authority.authority_id),
            description: "the authority was imported without its key: it can verify, not issue".to_owned(),
        })
    })
}

pub(super) async fn get(
    state: &State,
    request: pb::GetCertificateAuthorityRequest,
) -> Result<pb::CertificateAuthority, Status> {
    let authority_id = parse_name(&request.name, "authorities", "name", 63)?;
    let authority = pki::authority(&state.db, authority_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(AUTHORITY_TYPE, request.name.clone())))?;
    let certificate = pki::certificate(&state.db, &authority.certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::internal("an authority's certificate is missing")))?;
    Ok(authority_to_proto(&authority, &certificate))
}

pub(super) async fn list(
    state: &State,
    request: pb::ListCertificateAuthoritiesRequest,
) -> Result<pb::ListCertificateAuthoritiesResponse, Status> {
    let page_size = paging::page_size(request.page_size).map_err(status)?;
    let kind = match pb::AuthorityKind::try_from(request.kind) {
        Ok(pb::AuthorityKind::Unspecified) => None,
        Ok(kind) => Some(kind as i16),
        Err(_) => return Err(status(ApiError::invalid("INVALID_FILTER", "kind", "not a known authority kind"))),
    };
    let branch_code = Some(request.branch_code.as_str()).filter(|code| !code.is_empty());
    let filter_text = format!("{kind:?}|{branch_code:?}");
    let after = paging::decode_token(&request.page_token, &filter_text).map_err(status)?;
    // A deployment has one root and an intermediate per branch: a few hundred rows at most, sorted
    // and paged here by their position key.
    let all = pki::list_authorities(&state.db, kind, branch_code).await.map_err(db_status)?;
    let position = |row: &authority::Model| format!("{}\u{1}{}\u{1}{}", row.kind, row.branch_code, row.authority_id);
    let mut page: Vec<authority::Model> = all
        .into_iter()
        .filter(|row| after.as_deref().is_none_or(|after| position(row).as_str() > after))
        .take(page_size as usize + 1)
        .collect();
    let next_page_token = if page.len() as u64 > page_size {
        page.truncate(page_size as usize);
        page.last().map(|last| paging::encode_token(&position(last), &filter_text)).unwrap_or_default()
    } else {
        String::new()
    };
    let mut authorities = Vec::with_capacity(page.len());
    for row in &page {
        if let Some(certificate) = pki::certificate(&state.db, &row.certificate_id).await.map_err(db_status)? {
            authorities.push(authority_to_proto(row, &certificate));
        }
    }
    Ok(pb::ListCertificateAuthoritiesResponse { authorities, next_page_token })
}
