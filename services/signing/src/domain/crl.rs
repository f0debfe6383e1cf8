//! Certificate revocation lists (RFC 5280 section 5): the unsigned list an authority then signs, with
//! its number, the authority's key identifier, and each revoked certificate with its reason.

use std::time::SystemTime;

use der::asn1::{BitString, OctetString, Uint};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{
    certificate::Version,
    crl::{CertificateList, RevokedCert, TbsCertList},
    ext::{
        AsExtension,
        pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason},
    },
    name::Name,
    serial_number::SerialNumber,
    time::Time,
};

use super::algorithms::KeyAlgorithm;

/// One revoked certificate, as the CRL lists it.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    /// Its serial number's bytes.
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: SystemTime,
    /// The RFC 5280 CRLReason code (1-5, 9).
    pub reason: i16,
}

/// Everything a CRL needs but the authority's signature.
pub struct CrlRequest<'a> {
    /// The authority's subject name.
    pub issuer: Name,
    /// The authority's key identifier (its certificate's subjectKeyIdentifier).
    pub issuer_key_identifier: Vec<u8>,
    /// The authority's key algorithm.
    pub issuer_algorithm: KeyAlgorithm,
    /// The CRL's number, from 1.
    pub crl_number: u64,
    /// When it is issued.
    pub this_update: SystemTime,
    /// When the next is due.
    pub next_update: SystemTime,
    /// The revoked certificates.
    pub revoked: &'a [RevokedEntry],
}

fn reason(code: i16) -> CrlReason {
    match code {
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        9 => CrlReason::PrivilegeWithdrawn,
        _ => CrlReason::Unspecified,
    }
}

/// The unsigned CRL of `request`.
pub fn to_be_signed(request: &CrlRequest<'_>) -> Result<TbsCertList, der::Error> {
    let issuer = &request.issuer;
    let mut revoked = Vec::with_capacity(request.revoked.len());
    for entry in request.revoked {
        let entry_reason = reason(entry.reason);
        revoked.push(RevokedCert {
            serial_number: SerialNumber::new(&entry.serial)?,
            revocation_date: Time::try_from(entry.revoked_at)?,
            crl_entry_extensions: Some(vec![entry_reason.to_extension(issuer, &[])?]),
        });
    }
    let authority_key_identifier = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(request.issuer_key_identifier.clone())?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let crl_number = CrlNumber(Uint::new(&request.crl_number.to_be_bytes())?);
    Ok(TbsCertList {
        version: Version::V2,
        signature: request.issuer_algorithm.signature_algorithm()?,
        issuer: issuer.clone(),
        this_update: Time::try_from(request.this_update)?,
        next_update: Some(Time::try_from(request.next_update)?),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(vec![
            authority_key_identifier.to_extension(issuer, &[])?,
            crl_number.to_extension(issuer, &[])?,
        ]),
    })
}

/// The signed CRL.
pub fn assemble(
    tbs_cert_list: TbsCertList,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
) -> Result<CertificateList, der::Error> {
    Ok(CertificateList { tbs_cert_list, signature_algorithm, signature: BitString::from_bytes(signature)? })
}
