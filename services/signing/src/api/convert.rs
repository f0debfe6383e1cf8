//! Stored rows to their contract messages.

use chrono::{DateTime, Utc};
use motcua_chassis::timestamps;
use motcua_proto::motcua::signing::v1 as pb;

use crate::{
    domain::roles,
    store::entities::{authority, certificate, signature},
};

/// Where a key is kept, as stored.
pub(crate) const KEY_STORAGE_ENCRYPTED_PKCS8: i16 = 1;
/// In a PKCS#11 token.
pub(crate) const KEY_STORAGE_PKCS11: i16 = 2;
/// No private key is held.
pub(crate) const KEY_STORAGE_NONE: i16 = 3;

/// The state of `row` at `now`.
pub(crate) fn certificate_state(row: &certificate::Model, now: DateTime<Utc>) -> pb::CertificateState {
    if row.revoked_at.is_some() {
        pb::CertificateState::Revoked
    } else if now > row.not_after {
        pb::CertificateState::Expired
    } else if now < row.not_before {
        pb::CertificateState::NotYetValid
    } else {
        pb::CertificateState::Active
    }
}

/// The resource name of a certificate.
pub(crate) fn certificate_name(certificate_id: &str) -> String {
    format!("certificates/{certificate_id}")
}

/// The resource name of an authority.
pub(crate) fn authority_name(authority_id: &str) -> String {
    format!("authorities/{authority_id}")
}

/// The resource name of a signature.
pub(crate) fn signature_name(signature_id: &str) -> String {
    format!("signatures/{signature_id}")
}

/// A certificate with its chain in PEM.
pub(crate) fn certificate_to_proto(row: &certificate::Model, chain_pem: String, now: DateTime<Utc>) -> pb::Certificate {
    pb::Certificate {
        name: certificate_name(&row.certificate_id),
        subject_kind: i32::from(row.subject_kind),
        holder_id: row.holder_id.clone(),
        display_name: row.display_name.clone(),
        branch_code: row.branch_code.clone(),
        roles: roles::decode(&row.roles).into_iter().map(|role| role as i32).collect(),
        issuer: row.issuer_authority_id.as_deref().map(authority_name).unwrap_or_default(),
        serial_number: row.serial_hex.clone(),
        subject_dn: row.subject_dn.clone(),
        issuer_dn: row.issuer_dn.clone(),
        not_before: Some(timestamps::to_proto(row.not_before)),
        not_after: Some(timestamps::to_proto(row.not_after)),
        key_algorithm: i32::from(row.key_algorithm),
        key_storage: i32::from(row.key_storage),
        imported: row.imported,
        state: certificate_state(row, now) as i32,
        revocation: row.revoked_at.map(|revoked_at| pb::Revocation {
            reason: row.revocation_reason.map(i32::from).unwrap_or_default(),
            revoke_time: Some(timestamps::to_proto(revoked_at)),
            note: row.revocation_note.clone().unwrap_or_default(),
            log_index: row.revocation_log_index.unwrap_or_default(),
        }),
        certificate_der: row.certificate_der.clone(),
        chain_pem,
        create_time: Some(timestamps::to_proto(row.created_at)),
    }
}

/// An authority, with what its certificate says of its key.
pub(crate) fn authority_to_proto(row: &authority::Model, certificate: &certificate::Model) -> pb::CertificateAuthority {
    pb::CertificateAuthority {
        name: authority_name(&row.authority_id),
        kind: i32::from(row.kind),
        branch_code: row.branch_code.clone(),
        parent: row.parent_id.as_deref().map(authority_name).unwrap_or_default(),
        display_name: row.display_name.clone(),
        certificate: certificate_name(&row.certificate_id),
        key_algorithm: i32::from(certificate.key_algorithm),
        key_storage: i32::from(certificate.key_storage),
        imported: row.imported,
        can_issue: certificate.key_storage != KEY_STORAGE_NONE,
        crl_number: row.crl_number,
        create_time: Some(timestamps::to_proto(row.created_at)),
    }
}

/// A signature record with its chain in PEM; listings leave out the CMS bytes.
pub(crate) fn signature_to_proto(row: &signature::Model, chain_pem: &str, with_cms: bool) -> pb::Signature {
    pb::Signature {
        name: signature_name(&row.signature_id),
        kind: i32::from(row.kind),
        subject: row.subject.clone(),
        document_sha256: row.document_sha256.clone(),
        cms_der: if with_cms { row.cms_der.clone() } else { Vec::new() },
        certificate: certificate_name(&row.certificate_id),
        chain_pem: chain_pem.to_owned(),
        signer_id: row.signer_id.clone(),
        signer_name: row.signer_name.clone(),
        signer_role: i32::from(row.signer_role),
        branch_code: row.branch_code.clone(),
        approver_id: row.approver_id.clone(),
        approver_name: row.approver_name.clone(),
        officer_signature: row.officer_signature_id.as_deref().map(signature_name).unwrap_or_default(),
        sign_time: Some(timestamps::to_proto(row.sign_time)),
        revocation_check: Some(pb::RevocationCheck {
            state: i32::from(row.check_state),
            crl_number: row.check_crl_number,
            check_time: Some(timestamps::to_proto(row.check_time)),
        }),
        log_index: row.log_index,
    }
}
