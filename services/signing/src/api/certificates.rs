//! Officers' and branch seals' certificates: issuing, reading, listing and revoking, and the CRLs.

use chrono::{DateTime, Utc};
use motcua_chassis::{ApiError, idempotency::RequestKey, paging, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, signing_event::Payload};
use prost::Message;
use tonic::Status;

use super::{
    Begun, State,
    authorities::{AUTHORITY_TYPE, issuer_of, key_algorithm, validity_days},
    begin_claimed,
    convert::{authority_name, certificate_name, certificate_to_proto},
    db_status, finish_claimed,
    issuing::{self, NewCertificate},
    status,
    validate::{Violations, parse_name},
};
use crate::{
    domain::{
        certificates::{self, SubjectKind},
        roles::SignerRole,
    },
    store::{entities::certificate, pki},
};

/// The resource type of a certificate, for NOT_FOUND.
pub(crate) const CERTIFICATE_TYPE: &str = "motcua.signing.v1.Certificate";
/// An officer's or seal's default validity: two years.
const HOLDER_VALIDITY_DAYS: u32 = 730;

/// The roles of a person's certificate: at least one; none for a seal.
pub(crate) fn roles_of(violations: &mut Violations, kind: SubjectKind, numbers: &[i32]) -> Vec<SignerRole> {
    let roles: Vec<SignerRole> = numbers.iter().filter_map(|number| SignerRole::from_code(*number)).collect();
    if roles.len() != numbers.len() {
        violations.add("roles", "OFFICER or APPROVER only");
    }
    match kind {
        SubjectKind::Person if roles.is_empty() => {
            violations.add("roles", "a person's certificate needs at least one role");
        }
        SubjectKind::Organisation if !roles.is_empty() => {
            violations.add("roles", "a seal's certificate has no roles");
        }
        _ => {}
    }
    roles
}

/// PERSON or ORGANISATION from a request.
pub(crate) fn holder_kind(violations: &mut Violations, number: i32) -> SubjectKind {
    match SubjectKind::from_code(number) {
        Some(kind @ (SubjectKind::Person | SubjectKind::Organisation)) => kind,
        _ => {
            violations.add("subject_kind", "required: PERSON or ORGANISATION");
            SubjectKind::Person
        }
    }
}

/// The chain PEM of a certificate row.
pub(crate) async fn chain_pem_of(
    connection: &impl sea_orm::ConnectionTrait,
    row: &certificate::Model,
) -> Result<String, Status> {
    let chain = pki::chain(connection, row.clone()).await.map_err(db_status)?;
    Ok(certificates::chain_pem(&chain.iter().map(|row| row.certificate_der.clone()).collect::<Vec<_>>()))
}

pub(super) async fn create(
    state: &State,
    request: pb::CreateCertificateRequest,
) -> Result<pb::CreateCertificateResponse, Status> {
    let key = RequestKey::new(&request.request_id, "CreateCertificate", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    let issuer_id = match parse_name(&request.issuer, "authorities", "issuer", 63) {
        Ok(issuer_id) => issuer_id.to_owned(),
        Err(_) => {
            violations.add("issuer", "required: authorities/{authority_id}");
            String::new()
        }
    };
    let kind = holder_kind(&mut violations, request.subject_kind);
    let holder_id = violations.required_code("holder_id", &request.holder_id);
    let display_name = violations.display_name("display_name", &request.display_name);
    let branch_code = violations.required_code("branch_code", &request.branch_code);
    let roles = roles_of(&mut violations, kind, &request.roles);
    let algorithm = key_algorithm(&mut violations, request.key_algorithm);
    let validity_days = validity_days(&mut violations, request.validity_days, HOLDER_VALIDITY_DAYS);
    if kind == SubjectKind::Organisation && holder_id != branch_code {
        violations.add("holder_id", "a seal's holder is its branch: the branch code");
    }
    violations.check("INVALID_CERTIFICATE")?;

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    let authority = pki::authority(&transaction, &issuer_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(AUTHORITY_TYPE, request.issuer.clone())))?;
    if authority.kind != pb::AuthorityKind::Intermediate as i16 {
        return Err(status(ApiError::invalid("INVALID_CERTIFICATE", "issuer", "must be a branch's intermediate")));
    }
    if authority.branch_code != branch_code {
        return Err(status(ApiError::invalid("INVALID_CERTIFICATE", "branch_code", "must be the issuer's branch")));
    }
    let issuer = issuer_of(state, &transaction, &authority).await?;
    let now = super::now(&state.clock);
    let new = NewCertificate {
        subject_kind: kind,
        holder_id: &holder_id,
        display_name: &display_name,
        branch_code: &branch_code,
        roles: &roles,
        algorithm,
        validity_days,
        path_length: None,
        issuer_authority_id: Some(&authority.authority_id),
    };
    let row = issuing::issue(state, &new, Some(&issuer), now).await?;
    pki::insert_certificate(&transaction, row.clone()).await.map_err(db_status)?;
    let chain_pem = chain_pem_of(&transaction, &row).await?;
    let response = pb::CreateCertificateResponse { certificate: Some(certificate_to_proto(&row, chain_pem, now)) };
    let event = Payload::CertificateIssued(pb::CertificateIssued {
        certificate: certificate_name(&row.certificate_id),
        issuer: authority_name(&authority.authority_id),
        subject_kind: i32::from(row.subject_kind),
        branch_code: row.branch_code.clone(),
        key_algorithm: i32::from(row.key_algorithm),
        key_storage: i32::from(row.key_storage),
        imported: false,
        not_after: Some(timestamps::to_proto(row.not_after)),
    });
    finish_claimed(
        state,
        transaction,
        &key,
        &response,
        (certificate_name(&row.certificate_id), "certificate_issued", event),
    )
    .await?;
    Ok(response)
}

/// The id of `certificates/{sha-256 hex}`.
pub(crate) fn parse_certificate_name<'a>(name: &'a str, field: &str) -> Result<&'a str, Status> {
    parse_name(name, "certificates", field, 64).and_then(|id| {
        if id.len() == 64 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            Ok(id)
        } else {
            Err(status(ApiError::invalid("INVALID_NAME", field, "expected certificates/{64 lowercase hex digits}")))
        }
    })
}

pub(super) async fn get(state: &State, request: pb::GetCertificateRequest) -> Result<pb::Certificate, Status> {
    let certificate_id = parse_certificate_name(&request.name, "name")?;
    let row = pki::certificate(&state.db, certificate_id)
        .await
        .map_err(db_status)?
        .ok_or_else(|| status(ApiError::not_found(CERTIFICATE_TYPE, request.name.clone())))?;
    let chain_pem = chain_pem_of(&state.db, &row).await?;
    Ok(certificate_to_proto(&row, chain_pem, state.clock.now()))
}

pub(super) async fn list(
    state: &State,
    request: pb::ListCertificatesRequest,
) -> Result<pb::ListCertificatesResponse, Status> {
    let page_size = paging::page_size(request.page_size).map_err(status)?;
    let mut violations = Violations::default();
    let issuer_authority_id = if request.issuer.is_empty() {
        None
    } else {
        match parse_name(&request.issuer, "authorities", "issuer", 63) {
            Ok(id) => Some(id.to_owned()),
            Err(_) => {
                violations.add("issuer", "expected authorities/{authority_id}");
                None
            }
        }
    };
    let subject_kind = match request.subject_kind {
        0 => None,
        number => match SubjectKind::from_code(number) {
            Some(kind) => Some(kind as i16),
            None => {
                violations.add("subject_kind", "not a known subject kind");
                None
            }
        },
    };
    let state_filter = match pb::CertificateState::try_from(request.state) {
        Ok(pb::CertificateState::Unspecified) => None,
        Ok(wanted) => Some(wanted),
        Err(_) => {
            violations.add("state", "not a known certificate state");
            None
        }
    };
    violations.check("INVALID_FILTER")?;
    let filter = pki::CertificateFilter {
        issuer_authority_id,
        branch_code: Some(request.branch_code.clone()).filter(|code| !code.is_empty()),
        holder_id: Some(request.holder_id.clone()).filter(|holder| !holder.is_empty()),
        subject_kind,
    };
    let filter_text = format!("{filter:?}|{state_filter:?}");
    let after = paging::decode_token(&request.page_token, &filter_text)
        .map_err(status)?
        .map(|position| parse_position(&position))
        .transpose()?;
    let now = super::now(&state.clock);
    // The state depends on the clock, so it is filtered here; pages are read until full.
    let mut page = Vec::new();
    let mut cursor = after;
    let mut exhausted = false;
    while page.len() as u64 <= page_size && !exhausted {
        let batch =
            pki::list_certificates(&state.db, &filter, cursor.clone(), page_size + 1).await.map_err(db_status)?;
        exhausted = (batch.len() as u64) < page_size + 1;
        if let Some(last) = batch.last() {
            cursor = Some((last.created_at, last.certificate_id.clone()));
        }
        page.extend(
            batch
                .into_iter()
                .filter(|row| state_filter.is_none_or(|wanted| super::convert::certificate_state(row, now) == wanted)),
        );
    }
    let next_page_token = if page.len() as u64 > page_size {
        page.truncate(page_size as usize);
        page.last().map(|last| paging::encode_token(&position(last), &filter_text)).unwrap_or_default()
    } else {
        String::new()
    };
    let mut certificates = Vec::with_capacity(page.len());
    for row in &page {
        let chain_pem = chain_pem_of(&state.db, row).await?;
        certificates.push(certificate_to_proto(row, chain_pem, now));
    }
    Ok(pb::ListCertificatesResponse { certificates, next_page_token })
}

fn position(row: &certificate::Model) -> String {
    format!("{}|{}", row.created_at.timestamp_micros(), row.certificate_id)
}

fn parse_position(position: &str) -> Result<(DateTime<Utc>, String), Status> {
    let invalid =
        || status(ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service"));
    let (micros, certificate_id) = position.split_once('|').ok_or_else(invalid)?;
    let time = micros.parse().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(invalid)?;
    Ok((time, certificate_id.to_owned()))
}
