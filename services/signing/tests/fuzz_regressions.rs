//! The inputs that once crashed a fuzz target of signing's parsers (fuzz/regressions/<target>/, see
//! docs/testing.md), fed to the same parser as the target does on every `cargo test`: each must return,
//! with an answer, instead of panicking. A crash `make fuzz` finds is fixed and its input dropped there.

use motcua_chassis::testing::fuzz_regressions::{inputs, texts};
use motcua_signing::{
    domain::{checkpoint, cms, tiles::TilePath},
    keys::import::{self, KeyMaterialInput},
    witness::domain::{VerifierKey, parse_add_checkpoint},
};

#[test]
fn checkpoints_and_witness_requests_that_crashed_the_fuzzer_are_read() {
    for (path, note) in texts("checkpoint") {
        if let Ok(checkpoint) = checkpoint::parse(&note) {
            assert!(note.starts_with(&checkpoint.text), "{path:?}");
        }
    }
    for (path, body) in texts("witness_add_checkpoint") {
        if let Ok(request) = parse_add_checkpoint(&body) {
            assert!(request.checkpoint.len() < body.len(), "{path:?}");
            let _ = checkpoint::parse(&request.checkpoint);
        }
    }
    for (path, text) in texts("verifier_key") {
        if let Ok(key) = VerifierKey::parse(&text) {
            assert_eq!(VerifierKey::parse(&key.to_string()).as_ref(), Ok(&key), "{path:?}");
        }
    }
}

#[test]
fn tile_paths_that_crashed_the_fuzzer_are_read() {
    for (path, text) in texts("tile_path") {
        if let Some(tile) = TilePath::parse(&text) {
            assert!((1..=256).contains(&tile.width()), "{path:?}");
            let _ = tile.leaf_range();
        }
    }
}

#[test]
fn signatures_and_certificates_that_crashed_the_fuzzer_are_read() {
    use der::Decode;
    for (path, bytes) in inputs("cms") {
        if let Ok(parsed) = cms::parse(&bytes) {
            assert!(parsed.signer.as_ref().is_none_or(|signer| parsed.certificates.contains(signer)), "{path:?}");
        }
    }
    for (path, bytes) in inputs("certificate") {
        if let Ok(certificate) = x509_cert::Certificate::from_der(&bytes) {
            let _ = motcua_signing::domain::certificates::is_authority(&certificate);
            assert!(!motcua_signing::domain::certificates::fingerprint(&bytes).is_empty(), "{path:?}");
        }
    }
}

#[test]
fn key_material_that_crashed_the_fuzzer_is_read() {
    for (path, bytes) in inputs("key_import") {
        let Some((&form, rest)) = bytes.split_first() else { continue };
        let result = if form % 2 == 0 {
            import::read(KeyMaterialInput::Pkcs12 { data: rest, password: "fuzz" })
        } else {
            let Ok(text) = std::str::from_utf8(rest) else { continue };
            let mut parts = text.splitn(3, '\0');
            let (chain, key, password) =
                (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            import::read(KeyMaterialInput::Pem {
                certificate_chain_pem: chain,
                private_key_pem: key,
                private_key_password: password,
            })
        };
        assert!(result.as_ref().is_err() || result.is_ok_and(|material| !material.chain.is_empty()), "{path:?}");
    }
}
