//! Issuing: a new key and its certificate signed by an authority (or by itself for a root), and an
//! authority's signed CRL. Shared by the authority and certificate handlers.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use chrono::{DateTime, Utc};
use der::{Decode, Encode};
use rand_core::{OsRng, RngCore};
use tonic::Status;
use x509_cert::Certificate;

use super::{
    State,
    convert::{KEY_STORAGE_ENCRYPTED_PKCS8, KEY_STORAGE_PKCS11, certificate_state},
    internal,
};
use crate::{
    domain::{
        algorithms::KeyAlgorithm,
        certificates::{self, CertificateRequest, SubjectKind, SubjectName},
        crl::{self, CrlRequest, RevokedEntry},
        roles::{self, SignerRole},
    },
    keys::{HeldKey, SoftwareKey},
    store::entities::{authority, certificate, crl as crl_row},
};

/// How long a CRL is current: the next one is due within this.
const CRL_VALIDITY: Duration = Duration::from_secs(7 * 24 * 3600);

/// A certificate with its key open, able to sign.
pub(crate) struct Signer {
    /// The certificate, parsed.
    pub certificate: Certificate,
    /// Its private key.
    pub key: Arc<HeldKey>,
}

/// The signer of a stored certificate; `None` when signing holds no key for it.
pub(crate) fn open_signer(state: &State, row: certificate::Model) -> Result<Option<Signer>, Status> {
    let certificate = Certificate::from_der(&row.certificate_der).map_err(internal)?;
    let Some(key) = state.keys.key_of(&row).map_err(internal)? else { return Ok(None) };
    Ok(Some(Signer { certificate, key }))
}

/// Where a new key is kept: its PKCS#8 to encrypt before storing, or its label in the token.
enum StoredKey {
    Plain(pkcs8::SecretDocument),
    Token(String),
}

/// What a new certificate is for.
pub(crate) struct NewCertificate<'a> {
    pub subject_kind: SubjectKind,
    pub holder_id: &'a str,
    pub display_name: &'a str,
    pub branch_code: &'a str,
    pub roles: &'a [SignerRole],
    pub algorithm: KeyAlgorithm,
    pub validity_days: u32,
    pub path_length: Option<u8>,
    pub issuer_authority_id: Option<&'a str>,
}

/// Makes a key and its certificate, signed by `issuer` (self-signed when `None`); the key is stored
/// encrypted in the returned row and kept open in the key ring.
pub(crate) async fn issue(
    state: &State,
    new: &NewCertificate<'_>,
    issuer: Option<&Signer>,
    now: DateTime<Utc>,
) -> Result<certificate::Model, Status> {
    let algorithm = new.algorithm;
    let token = state.keys.token().cloned();
    // With a token configured, ECDSA keys are made in it; RSA keys stay encrypted PKCS#8 (see
    // docs/operations.md).
    let (key, stored) = tokio::task::spawn_blocking(move || match (token, algorithm) {
        (Some(token), KeyAlgorithm::EcdsaP256) => {
            let label = uuid::Uuid::new_v4().to_string();
            token.generate_ecdsa(&label).map(|key| (HeldKey::Token(key), StoredKey::Token(label)))
        }
        _ => SoftwareKey::generate(algorithm).map(|(key, der)| (HeldKey::Software(key), StoredKey::Plain(der))),
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let public_key = key.public_key_info().map_err(internal)?;
    let subject = SubjectName {
        common_name: new.display_name,
        holder_id: new.holder_id,
        branch_code: new.branch_code,
        organization: &state.settings.organization,
    }
    .to_name()
    .map_err(internal)?;
    let not_before = SystemTime::from(now) - Duration::from_secs(60);
    let mut not_after = SystemTime::from(now) + Duration::from_secs(u64::from(new.validity_days) * 86_400);
    if let Some(issuer) = issuer {
        // A certificate never outlives its issuer's.
        not_after = not_after.min(issuer.certificate.tbs_certificate.validity.not_after.to_system_time());
    }
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    let (issuer_name, issuer_key_identifier, issuer_algorithm) = match issuer {
        Some(issuer) => (
            issuer.certificate.tbs_certificate.subject.clone(),
            certificates::subject_key_identifier(&issuer.certificate),
            issuer.key.algorithm(),
        ),
        None => (subject.clone(), certificates::key_identifier(&public_key), key.algorithm()),
    };
    let tbs = certificates::to_be_signed(&CertificateRequest {
        serial,
        subject_kind: new.subject_kind,
        subject,
        issuer: issuer_name,
        subject_public_key: &public_key,
        issuer_key_identifier,
        issuer_algorithm,
        not_before,
        not_after,
        path_length: new.path_length,
    })
    .map_err(internal)?;
    let tbs_der = tbs.to_der().map_err(internal)?;
    let signing_key = issuer.map_or(&key, |issuer| issuer.key.as_ref());
    let signature = signing_key.sign(&tbs_der).map_err(internal)?;
    let certificate =
        certificates::assemble(tbs, issuer_algorithm.signature_algorithm().map_err(internal)?, &signature)
            .map_err(internal)?;
    let certificate_der = certificate.to_der().map_err(internal)?;
    let row = row_of_certificate(&certificate, &certificate_der, new, now)?;
    let row = match stored {
        StoredKey::Plain(private_key_der) => certificate::Model {
            key_algorithm: algorithm as i16,
            key_storage: KEY_STORAGE_ENCRYPTED_PKCS8,
            encrypted_key: Some(state.keys.encryption().encrypt(private_key_der.as_bytes()).map_err(internal)?),
            ..row
        },
        StoredKey::Token(label) => certificate::Model {
            key_algorithm: algorithm as i16,
            key_storage: KEY_STORAGE_PKCS11,
            pkcs11_key_label: Some(label),
            ..row
        },
    };
    state.keys.remember(&row.certificate_id, Arc::new(key));
    Ok(row)
}

/// The stored row of a certificate (without a key).
pub(crate) fn row_of_certificate(
    certificate: &Certificate,
    certificate_der: &[u8],
    new: &NewCertificate<'_>,
    now: DateTime<Utc>,
) -> Result<certificate::Model, Status> {
    let tbs = &certificate.tbs_certificate;
    let time = |time: &x509_cert::time::Time| DateTime::<Utc>::from(time.to_system_time());
    Ok(certificate::Model {
        certificate_id: certificates::fingerprint(certificate_der),
        subject_kind: new.subject_kind as i16,
        holder_id: new.holder_id.to_owned(),
        display_name: new.display_name.to_owned(),
        branch_code: new.branch_code.to_owned(),
        roles: roles::encode(new.roles),
        issuer_authority_id: new.issuer_authority_id.map(str::to_owned),
        serial_hex: hex::encode(tbs.serial_number.as_bytes()),
        subject_dn: tbs.subject.to_string(),
        issuer_dn: tbs.issuer.to_string(),
        not_before: time(&tbs.validity.not_before),
        not_after: time(&tbs.validity.not_after),
        key_algorithm: KeyAlgorithm::of_public_key(&tbs.subject_public_key_info)
            .map_or(0, |algorithm| algorithm as i16),
        key_storage: super::convert::KEY_STORAGE_NONE,
        imported: false,
        certificate_der: certificate_der.to_vec(),
        encrypted_key: None,
        pkcs11_key_label: None,
        revoked_at: None,
        revocation_reason: None,
        revocation_note: None,
        revocation_log_index: None,
        created_at: now,
    })
}

/// A new CRL of `authority`, numbered one past its current, listing `revoked`, signed by `signer`.
pub(crate) fn issue_crl(
    authority: &authority::Model,
    signer: &Signer,
    revoked: &[certificate::Model],
    now: DateTime<Utc>,
) -> Result<crl_row::Model, Status> {
    let crl_number = authority.crl_number + 1;
    let entries: Vec<RevokedEntry> = revoked
        .iter()
        .filter_map(|row| {
            Some(RevokedEntry {
                serial: hex::decode(&row.serial_hex).ok()?,
                revoked_at: SystemTime::from(row.revoked_at?),
                reason: row.revocation_reason.unwrap_or_default(),
            })
        })
        .collect();
    let this_update = SystemTime::from(now);
    let next_update = this_update + CRL_VALIDITY;
    let tbs = crl::to_be_signed(&CrlRequest {
        issuer: signer.certificate.tbs_certificate.subject.clone(),
        issuer_key_identifier: certificates::subject_key_identifier(&signer.certificate),
        issuer_algorithm: signer.key.algorithm(),
        crl_number: crl_number as u64,
        this_update,
        next_update,
        revoked: &entries,
    })
    .map_err(internal)?;
    let signature = signer.key.sign(&tbs.to_der().map_err(internal)?).map_err(internal)?;
    let list = crl::assemble(tbs, signer.key.algorithm().signature_algorithm().map_err(internal)?, &signature)
        .map_err(internal)?;
    Ok(crl_row::Model {
        authority_id: authority.authority_id.clone(),
        crl_number,
        this_update: now,
        next_update: DateTime::<Utc>::from(next_update),
        crl_der: list.to_der().map_err(internal)?,
    })
}

/// Whether `row` may sign at `now`: active, not revoked.
pub(crate) fn is_active(row: &certificate::Model, now: DateTime<Utc>) -> bool {
    certificate_state(row, now) == motcua_proto::motcua::signing::v1::CertificateState::Active
}
