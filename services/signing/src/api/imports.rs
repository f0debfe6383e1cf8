//! Imports from an outside CA (the national root, a government CA): an authority with or without its
//! key, and an officer's or seal's certificate with its key, which then sign exactly as those issued
//! here. Imported keys are kept as encrypted PKCS#8.

use std::sync::Arc;

use der::Encode;
use motcua_chassis::{ApiError, idempotency::RequestKey, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, key_material, signing_event::Payload};
use prost::Message;
use tonic::Status;
use x509_cert::Certificate;

use super::{
    Begun, State,
    authorities::AUTHORITY_TYPE,
    begin_claimed,
    certificates::{chain_pem_of, holder_kind, roles_of},
    convert::{
        KEY_STORAGE_ENCRYPTED_PKCS8, authority_name, authority_to_proto, certificate_name, certificate_to_proto,
    },
    db_status, finish_claimed, internal,
    issuing::{self, NewCertificate},
    status,
    validate::{Violations, is_plain_id},
};
use crate::{
    domain::{
        algorithms::{self, KeyAlgorithm},
        certificates::{self, OID_COMMON_NAME, SubjectKind},
        verification::{self, HeldCertificate},
    },
    keys::{
        HeldKey,
        import::{self, ImportedMaterial, KeyMaterialInput},
    },
    store::{
        entities::{authority, certificate},
        pki,
    },
};

fn invalid_material(description: impl Into<String>) -> Status {
    status(ApiError::invalid("INVALID_KEY_MATERIAL", "key_material", description))
}

fn chain_unknown(subject: String) -> Status {
    status(ApiError::FailedPrecondition {
        reason: "CHAIN_UNKNOWN",
        violation_type: "CHAIN",
        subject,
        description: "the certificate does not chain to an authority signing holds; import that authority first"
            .to_owned(),
    })
}

/// Reads the request's key material off the async workers (PKCS#12 key derivation is slow on purpose).
async fn read_material(material: Option<pb::KeyMaterial>) -> Result<ImportedMaterial, Status> {
    let format =
        material.and_then(|material| material.format).ok_or_else(|| invalid_material("required: PKCS#12 or PEM"))?;
    tokio::task::spawn_blocking(move || {
        let input = match &format {
            key_material::Format::Pkcs12(bundle) => {
                KeyMaterialInput::Pkcs12 { data: &bundle.data, password: &bundle.password }
            }
            key_material::Format::Pem(bundle) => KeyMaterialInput::Pem {
                certificate_chain_pem: &bundle.certificate_chain_pem,
                private_key_pem: &bundle.private_key_pem,
                private_key_password: &bundle.private_key_password,
            },
        };
        import::read(input)
    })
    .await
    .map_err(internal)?
    .map_err(|error| invalid_material(error.0))
}

/// The authorities signing holds, as verification needs them, with their ids by certificate id.
async fn held_authorities(state: &State) -> Result<(Vec<HeldCertificate>, Vec<(String, String)>), Status> {
    let mut held = Vec::new();
    let mut ids = Vec::new();
    for (authority, row) in pki::authorities_with_certificates(&state.db).await.map_err(db_status)? {
        if let Ok(certificate) = <Certificate as der::Decode>::from_der(&row.certificate_der) {
            held.push(HeldCertificate { certificate, revoked_at: None });
            ids.push((row.certificate_id, authority.authority_id));
        }
    }
    Ok((held, ids))
}

/// The id of the held authority that issued `certificate`.
async fn issuing_authority(state: &State, certificate: &Certificate, subject: String) -> Result<String, Status> {
    let (held, ids) = held_authorities(state).await?;
    let chain = verification::chain_to_authority(certificate, &held).map_err(|_| chain_unknown(subject.clone()))?;
    let issuer = chain.get(1).ok_or_else(|| chain_unknown(subject.clone()))?;
    let issuer_id = certificates::fingerprint(&issuer.to_der().map_err(internal)?);
    ids.into_iter()
        .find(|(certificate_id, _)| *certificate_id == issuer_id)
        .map(|(_, id)| id)
        .ok_or_else(|| chain_unknown(subject))
}

/// The stored row of an imported certificate, with its key encrypted when given.
fn imported_row(
    state: &State,
    certificate: &Certificate,
    key: Option<(crate::keys::SoftwareKey, pkcs8::SecretDocument)>,
    new: &NewCertificate<'_>,
) -> Result<(certificate::Model, Option<Arc<HeldKey>>), Status> {
    let der = certificate.to_der().map_err(internal)?;
    let row = issuing::row_of_certificate(certificate, &der, new, super::now(&state.clock))?;
    let row = certificate::Model { imported: true, ..row };
    Ok(match key {
        None => (row, None),
        Some((key, private_key_der)) => {
            let encrypted = state.keys.encryption().encrypt(private_key_der.as_bytes()).map_err(internal)?;
            let row =
                certificate::Model { key_storage: KEY_STORAGE_ENCRYPTED_PKCS8, encrypted_key: Some(encrypted), ..row };
            (row, Some(Arc::new(HeldKey::Software(key))))
        }
    })
}

fn common_name(certificate: &Certificate) -> String {
    certificates::name_attribute(&certificate.tbs_certificate.subject, OID_COMMON_NAME)
        .unwrap_or_else(|| certificate.tbs_certificate.subject.to_string())
}

pub(super) async fn import_authority(
    state: &State,
    request: pb::ImportCertificateAuthorityRequest,
) -> Result<pb::ImportCertificateAuthorityResponse, Status> {
    let key =
        RequestKey::new(&request.request_id, "ImportCertificateAuthority", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    if !is_plain_id(&request.authority_id, 63) {
        violations.add("authority_id", "required: 1 to 63 lowercase letters, digits and hyphens");
    }
    let kind = pb::AuthorityKind::try_from(request.kind).unwrap_or_default();
    match kind {
        pb::AuthorityKind::Root if !request.branch_code.is_empty() => {
            violations.add("branch_code", "a root serves no single branch");
        }
        pb::AuthorityKind::Intermediate => {
            violations.required_code("branch_code", &request.branch_code);
        }
        pb::AuthorityKind::Unspecified => violations.add("kind", "required: ROOT or INTERMEDIATE"),
        pb::AuthorityKind::Root => {}
    }
    violations.check("INVALID_AUTHORITY")?;
    let material = read_material(request.key_material.clone()).await?;
    let ImportedMaterial { chain, key: private_key } = material;
    let certificate = chain.first().ok_or_else(|| invalid_material("no certificate was given"))?.clone();
    if !certificates::is_authority(&certificate) {
        return Err(invalid_material("the first certificate is not a CA (basicConstraints cA and keyCertSign)"));
    }
    let subject = authority_name(&request.authority_id);
    let parent_id = match kind {
        pb::AuthorityKind::Root => {
            let tbs = certificate.tbs_certificate.to_der().map_err(internal)?;
            let self_signed = certificate.tbs_certificate.subject == certificate.tbs_certificate.issuer
                && algorithms::verify(
                    &certificate.tbs_certificate.subject_public_key_info,
                    &certificate.signature_algorithm,
                    &tbs,
                    certificate.signature.raw_bytes(),
                );
            if !self_signed {
                return Err(invalid_material("a root's certificate must be self-signed"));
            }
            None
        }
        _ => Some(issuing_authority(state, &certificate, subject.clone()).await?),
    };

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    if pki::authority(&transaction, &request.authority_id).await.map_err(db_status)?.is_some()
        || (kind == pb::AuthorityKind::Intermediate
            && pki::intermediate_of_branch(&transaction, &request.branch_code).await.map_err(db_status)?.is_some())
    {
        return Err(status(ApiError::AlreadyExists {
            reason: "AUTHORITY_EXISTS",
            description: "this authority, or the branch's intermediate, already exists".to_owned(),
        }));
    }
    let display_name = common_name(&certificate);
    let new = NewCertificate {
        subject_kind: SubjectKind::Authority,
        holder_id: &request.authority_id,
        display_name: &display_name,
        branch_code: &request.branch_code,
        roles: &[],
        algorithm: KeyAlgorithm::of_public_key(&certificate.tbs_certificate.subject_public_key_info)
            .unwrap_or(KeyAlgorithm::EcdsaP256),
        validity_days: 0,
        path_length: None,
        issuer_authority_id: parent_id.as_deref(),
    };
    let (row, held_key) = imported_row(state, &certificate, private_key, &new)?;
    if pki::certificate(&transaction, &row.certificate_id).await.map_err(db_status)?.is_some() {
        return Err(status(ApiError::AlreadyExists {
            reason: "CERTIFICATE_EXISTS",
            description: "signing already holds this certificate".to_owned(),
        }));
    }
    pki::insert_certificate(&transaction, row.clone()).await.map_err(db_status)?;
    let now = super::now(&state.clock);
    let mut authority_row = authority::Model {
        authority_id: request.authority_id.clone(),
        kind: kind as i16,
        branch_code: request.branch_code.clone(),
        parent_id: parent_id.clone(),
        display_name,
        certificate_id: row.certificate_id.clone(),
        imported: true,
        crl_number: 0,
        created_at: now,
    };
    pki::insert_authority(&transaction, authority_row.clone()).await.map_err(db_status)?;
    if let Some(held_key) = held_key {
        state.keys.remember(&row.certificate_id, held_key.clone());
        let signer = issuing::Signer { certificate: certificate.clone(), key: held_key };
        let first_crl = issuing::issue_crl(&authority_row, &signer, &[], now)?;
        pki::store_crl(&transaction, first_crl).await.map_err(db_status)?;
        authority_row.crl_number = 1;
    }
    let chain_pem = chain_pem_of(&transaction, &row).await?;
    let response = pb::ImportCertificateAuthorityResponse {
        authority: Some(authority_to_proto(&authority_row, &row)),
        certificate: Some(certificate_to_proto(&row, chain_pem, now)),
    };
    let event = Payload::AuthorityCreated(pb::AuthorityCreated {
        authority: subject.clone(),
        kind: i32::from(authority_row.kind),
        branch_code: authority_row.branch_code.clone(),
        key_algorithm: i32::from(row.key_algorithm),
        imported: true,
    });
    finish_claimed(state, transaction, &key, &response, (subject, "authority_created", event)).await?;
    Ok(response)
}

pub(super) async fn import_certificate(
    state: &State,
    request: pb::ImportCertificateRequest,
) -> Result<pb::ImportCertificateResponse, Status> {
    let key = RequestKey::new(&request.request_id, "ImportCertificate", &request.encode_to_vec()).map_err(status)?;
    let mut violations = Violations::default();
    let kind = holder_kind(&mut violations, request.subject_kind);
    let holder_id = violations.required_code("holder_id", &request.holder_id);
    let branch_code = violations.required_code("branch_code", &request.branch_code);
    let roles = roles_of(&mut violations, kind, &request.roles);
    if kind == SubjectKind::Organisation && holder_id != branch_code {
        violations.add("holder_id", "a seal's holder is its branch: the branch code");
    }
    violations.check("INVALID_CERTIFICATE")?;
    let ImportedMaterial { chain, key: private_key } = read_material(request.key_material.clone()).await?;
    let certificate = chain.first().ok_or_else(|| invalid_material("no certificate was given"))?.clone();
    if private_key.is_none() {
        return Err(invalid_material("the private key is required: an imported certificate signs"));
    }
    if certificates::is_authority(&certificate) {
        return Err(invalid_material("an authority's certificate: import it with ImportCertificateAuthority"));
    }
    let issuer_id = issuing_authority(state, &certificate, format!("signers/{holder_id}")).await?;

    let transaction = match begin_claimed(state, &key).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(transaction) => transaction,
    };
    let display_name = common_name(&certificate);
    let new = NewCertificate {
        subject_kind: kind,
        holder_id: &holder_id,
        display_name: &display_name,
        branch_code: &branch_code,
        roles: &roles,
        algorithm: KeyAlgorithm::of_public_key(&certificate.tbs_certificate.subject_public_key_info)
            .unwrap_or(KeyAlgorithm::EcdsaP256),
        validity_days: 0,
        path_length: None,
        issuer_authority_id: Some(&issuer_id),
    };
    let (row, held_key) = imported_row(state, &certificate, private_key, &new)?;
    if pki::certificate(&transaction, &row.certificate_id).await.map_err(db_status)?.is_some() {
        return Err(status(ApiError::AlreadyExists {
            reason: "CERTIFICATE_EXISTS",
            description: "signing already holds this certificate".to_owned(),
        }));
    }
    if pki::authority(&transaction, &issuer_id).await.map_err(db_status)?.is_none() {
        return Err(status(ApiError::not_found(AUTHORITY_TYPE, authority_name(&issuer_id))));
    }
    pki::insert_certificate(&transaction, row.clone()).await.map_err(db_status)?;
    if let Some(held_key) = held_key {
        state.keys.remember(&row.certificate_id, held_key);
    }
    let chain_pem = chain_pem_of(&transaction, &row).await?;
    let response = pb::ImportCertificateResponse {
        certificate: Some(certificate_to_proto(&row, chain_pem, super::now(&state.clock))),
    };
    let event = Payload::CertificateIssued(pb::CertificateIssued {
        certificate: certificate_name(&row.certificate_id),
        issuer: authority_name(&issuer_id),
        subject_kind: i32::from(row.subject_kind),
        branch_code: row.branch_code.clone(),
        key_algorithm: i32::from(row.key_algorithm),
        key_storage: i32::from(row.key_storage),
        imported: true,
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
