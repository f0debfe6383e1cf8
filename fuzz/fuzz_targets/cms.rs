//! Fuzzes the CMS reader given the `.p7s` of VerifySignature (signing's `domain::cms::parse`), then the
//! verification of what it read, as VerifySignature runs it: the carried certificates taken as the
//! authorities held, and the document's digest the one the signature claims, so that the signature,
//! the chain and the validity checks all run over the fuzzed bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_signing::domain::{
    cms,
    verification::{self, HeldCertificate},
};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = cms::parse(data) else { return };
    if let Some(signer) = &parsed.signer {
        assert!(parsed.certificates.contains(signer), "the signer is one of the carried certificates");
    }
    let authorities: Vec<HeldCertificate> = parsed
        .certificates
        .iter()
        .map(|certificate| HeldCertificate { certificate: certificate.clone(), revoked_at: None })
        .collect();
    let digest: [u8; 32] = parsed.message_digest.as_slice().try_into().unwrap_or([0; 32]);
    let outcome = verification::verify(&parsed, &digest, &authorities, |_| None);
    assert_eq!(outcome.signing_time, Some(parsed.signing_time));
});
