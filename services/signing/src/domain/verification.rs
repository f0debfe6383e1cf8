//! Verifying a signature: the checks in the order a verifier reports them (form, digest, signature
//! value, chain to an authority signing trusts, validity and revocation at the signing time), and the
//! outcome with its reason.

use std::time::SystemTime;

use der::Encode;
use x509_cert::Certificate;

use super::{algorithms, certificates, cms::ParsedSignature};

/// The longest chain followed, signer included.
const MAX_CHAIN_LENGTH: usize = 8;

motcua_chassis::coded_enum! {
    /// Why a signature does not verify; the numbers are the contract's.
    pub enum Failure {
        /// The document differs from the signed digest.
        DigestMismatch = 1,
        /// The signer does not chain to an authority signing trusts.
        UnknownSigner = 2,
        /// The signer's certificate (or one above it) was revoked at or before the signing time.
        RevokedBeforeSigningTime = 3,
        /// A certificate of the chain was not valid at the signing time.
        Expired = 4,
        /// A certificate is not signed by the one above it, or an authority lacks the right to issue.
        ChainBroken = 5,
        /// The signature value does not verify over the signed attributes.
        BadSignature = 6,
        /// Not a detached CMS SignedData signing can read.
        Malformed = 7,
    }
}

/// A certificate signing holds, with its revocation time when revoked.
#[derive(Debug, Clone)]
pub struct HeldCertificate {
    /// The certificate.
    pub certificate: Certificate,
    /// When it was revoked.
    pub revoked_at: Option<SystemTime>,
}

/// What a verification found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `None` when valid.
    pub failure: Option<Failure>,
    /// The signer's certificate, when the signature names one it carries.
    pub signer: Option<Certificate>,
    /// The signing time, when the signature could be read.
    pub signing_time: Option<SystemTime>,
}

/// Verifies `parsed` over a document whose SHA-256 is `document_sha256`, against the authorities
/// signing holds; `revoked_at` tells when a certificate signing holds was revoked.
pub fn verify(
    parsed: &ParsedSignature,
    document_sha256: &[u8; 32],
    authorities: &[HeldCertificate],
    revoked_at: impl Fn(&Certificate) -> Option<SystemTime>,
) -> Outcome {
    let signing_time = parsed.signing_time;
    let outcome =
        |failure: Option<Failure>| Outcome { failure, signer: parsed.signer.clone(), signing_time: Some(signing_time) };
    let Some(signer) = &parsed.signer else { return outcome(Some(Failure::Malformed)) };
    if parsed.message_digest.as_slice() != document_sha256 {
        return outcome(Some(Failure::DigestMismatch));
    }
    let public_key = &signer.tbs_certificate.subject_public_key_info;
    if !algorithms::verify(public_key, &parsed.signature_algorithm, &parsed.signed_attributes_der, &parsed.signature) {
        return outcome(Some(Failure::BadSignature));
    }
    let chain = match chain_to_authority(signer, authorities) {
        Ok(chain) => chain,
        Err(failure) => return outcome(Some(failure)),
    };
    if chain.iter().any(|certificate| !valid_at(certificate, signing_time)) {
        return outcome(Some(Failure::Expired));
    }
    if chain.iter().filter_map(&revoked_at).any(|revoked| revoked <= signing_time) {
        return outcome(Some(Failure::RevokedBeforeSigningTime));
    }
    outcome(None)
}

/// The signer then each authority above it up to a self-signed root signing holds.
pub fn chain_to_authority(signer: &Certificate, authorities: &[HeldCertificate]) -> Result<Vec<Certificate>, Failure> {
    let mut chain = vec![signer.clone()];
    let mut current = signer.clone();
    while chain.len() <= MAX_CHAIN_LENGTH {
        let candidates: Vec<&HeldCertificate> = authorities
            .iter()
            .filter(|held| held.certificate.tbs_certificate.subject == current.tbs_certificate.issuer)
            .collect();
        if candidates.is_empty() {
            return Err(Failure::UnknownSigner);
        }
        let Ok(signed_part) = current.tbs_certificate.to_der() else { return Err(Failure::Malformed) };
        let issuer = candidates.into_iter().find(|held| {
            algorithms::verify(
                &held.certificate.tbs_certificate.subject_public_key_info,
                &current.signature_algorithm,
                &signed_part,
                current.signature.raw_bytes(),
            )
        });
        let Some(issuer) = issuer else { return Err(Failure::ChainBroken) };
        if !certificates::is_authority(&issuer.certificate) {
            return Err(Failure::ChainBroken);
        }
        let self_signed = issuer.certificate.tbs_certificate.subject == issuer.certificate.tbs_certificate.issuer;
        if issuer.certificate == current {
            return Ok(chain);
        }
        chain.push(issuer.certificate.clone());
        if self_signed {
            return Ok(chain);
        }
        current = issuer.certificate.clone();
    }
    Err(Failure::ChainBroken)
}

/// Whether `certificate` was within its validity at `time`.
pub fn valid_at(certificate: &Certificate, time: SystemTime) -> bool {
    let validity = &certificate.tbs_certificate.validity;
    validity.not_before.to_system_time() <= time && time <= validity.not_after.to_system_time()
}
