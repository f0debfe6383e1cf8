//! Checkpoints of the transparency log as C2SP tlog-checkpoint text inside a C2SP signed note, signed
//! with the log's Ed25519 key, and the signed-note verifier key that names it.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The signed-note algorithm byte of Ed25519.
const ED25519_ALGORITHM: u8 = 0x01;

/// The body of a checkpoint: origin, tree size and root hash, each line ending in a newline.
pub fn body(origin: &str, tree_size: u64, root_hash: &Hash) -> String {
    format!("{origin}\n{tree_size}\n{}\n", STANDARD.encode(root_hash))
}

/// The 4-byte key hash of a signed-note Ed25519 key: SHA-256(name || "\n" || 0x01 || key)[..4].
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519_ALGORITHM]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The verifier key in the signed-note format: `<name>+<hex key hash>+<base64(0x01 || key)>`.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut encoded = vec![ED25519_ALGORITHM];
    encoded.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(key_hash(name, key)), STANDARD.encode(encoded))
}

/// The whole signed note: the body, a blank line, and the signature line
/// `— <name> <base64(key hash || signature)>`.
pub fn sign(name: &str, key: &SigningKey, body: &str) -> String {
    let signature = key.sign(body.as_bytes());
    let mut signature_bytes = key_hash(name, &key.verifying_key()).to_vec();
    signature_bytes.extend_from_slice(&signature.to_bytes());
    format!("{body}\n\u{2014} {name} {}\n", STANDARD.encode(signature_bytes))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Verifier;

    use super::*;

    #[test]
    fn a_signed_note_carries_the_body_a_blank_line_and_a_verifiable_signature_line() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let body = body("example.org/log", 3, &[0; 32]);
        let note = sign("example.org/log", &key, &body);
        let (text, signature_line) = note.split_once("\n\n").expect("a blank line after the body");
        assert_eq!(format!("{text}\n"), body);
        let encoded = signature_line.strip_prefix("\u{2014} example.org/log ").expect("signature line").trim_end();
        let bytes = STANDARD.decode(encoded).expect("base64");
        assert_eq!(bytes[..4], key_hash("example.org/log", &key.verifying_key()));
        let signature = ed25519_dalek::Signature::from_slice(&bytes[4..]).expect("64 bytes");
        assert!(key.verifying_key().verify(body.as_bytes(), &signature).is_ok());
    }

    #[test]
    fn the_verifier_key_names_the_log_and_its_key() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = verifier_key("example.org/log", &key);
        let parts: Vec<_> = text.split('+').collect();
        assert_eq!(parts[0], "example.org/log");
        assert_eq!(parts[1].len(), 8);
        assert_eq!(STANDARD.decode(parts[2]).expect("base64").len(), 33);
    }
}
