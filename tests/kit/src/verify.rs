//! How an outsider checks what motcua signs, written from the standards and sharing no code with the
//! services: `openssl cms -verify` of a detached signature, an RFC 9162 inclusion proof against a
//! root, and a C2SP signed-note checkpoint under the log's Ed25519 verifier key.

use std::{path::Path, process::Command};

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// `openssl cms -verify` of detached `signature` (DER) over `content` against `chain.pem`, files in
/// `folder`, as VERIFY.md writes it: whether it verified, and what OpenSSL said.
pub fn openssl_verify(folder: &Path, content: &str, signature: &str) -> (bool, String) {
    let output = Command::new("openssl")
        .current_dir(folder)
        .args(["cms", "-verify", "-binary", "-content", content, "-inform", "DER", "-in", signature])
        .args(["-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"])
        .output()
        .expect("openssl runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A leaf's hash: SHA-256(0x00 || data), RFC 9162 section 2.1.1.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

/// An interior node's hash: SHA-256(0x01 || left || right).
fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The root of a tree of `tree_size` leaves from leaf `index`'s hash and its inclusion proof, as
/// RFC 9162 section 2.1.3.2 verifies one; `None` when the proof has the wrong length for the tree.
pub fn root_from_inclusion_proof(index: u64, tree_size: u64, leaf: [u8; 32], proof: &[[u8; 32]]) -> Option<[u8; 32]> {
    if index >= tree_size {
        return None;
    }
    let (mut fn_, mut sn, mut r) = (index, tree_size - 1, leaf);
    for p in proof {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Proof hashes as the API returns them (32 bytes each).
pub fn proof_hashes(hashes: &[Vec<u8>]) -> Vec<[u8; 32]> {
    hashes.iter().map(|hash| hash.as_slice().try_into().expect("a 32-byte proof hash")).collect()
}

/// A checkpoint read from its signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// The number of leaves.
    pub tree_size: u64,
    /// The root hash.
    pub root: [u8; 32],
}

/// Reads a C2SP checkpoint (`origin`, tree size, base64 root, blank line, signature lines) and checks
/// that one signature line is an Ed25519 signature of its body by `verifier_key`
/// (`<name>+<hex key hash>+<base64 0x01 || key>`, C2SP signed-note); why not, when it is not.
pub fn verify_checkpoint(note: &str, verifier_key: &str) -> Result<Checkpoint, String> {
    let (body, signatures) = note.split_once("\n\n").ok_or("no blank line between body and signatures")?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let origin = lines.next().ok_or("no origin line")?.to_owned();
    let tree_size = lines.next().and_then(|line| line.parse().ok()).ok_or("no tree size line")?;
    let root = lines.next().and_then(|line| STANDARD.decode(line).ok()).ok_or("no base64 root line")?;
    let root: [u8; 32] = root.try_into().map_err(|_| "the root is not 32 bytes")?;

    let mut parts = verifier_key.splitn(3, '+');
    let (name, key_hash, key) = (parts.next(), parts.next(), parts.next());
    let (Some(name), Some(key_hash), Some(key)) = (name, key_hash, key) else {
        return Err(format!("{verifier_key:?} is not a verifier key"));
    };
    let key = STANDARD.decode(key).map_err(|_| "the verifier key is not base64")?;
    let (0x01, Ok(key)) = (key[0], <[u8; 32]>::try_from(&key[1..])) else {
        return Err("the verifier key is not an Ed25519 key".to_owned());
    };
    let id: [u8; 4] =
        Sha256::new().chain_update(name).chain_update(b"\n").chain_update([0x01]).chain_update(key).finalize()[..4]
            .try_into()
            .expect("4 bytes");
    if hex::encode(id) != key_hash {
        return Err("the verifier key's hash does not match its name and key".to_owned());
    }
    let key = VerifyingKey::from_bytes(&key).map_err(|error| format!("not an Ed25519 point: {error}"))?;
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("— ") else { continue };
        let Some((signer, encoded)) = rest.split_once(' ') else { continue };
        let Ok(bytes) = STANDARD.decode(encoded) else { continue };
        if signer != name || bytes.len() != 68 || bytes[..4] != id {
            continue;
        }
        let signature = Signature::from_slice(&bytes[4..]).map_err(|error| error.to_string())?;
        key.verify(body.as_bytes(), &signature).map_err(|_| "the log's signature does not verify".to_owned())?;
        return Ok(Checkpoint { origin, tree_size, root });
    }
    Err(format!("no signature line by {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree of leaves `[0]`, `[1]`, `[2]` by hand, and the proofs of each leaf in it.
    #[test]
    fn an_inclusion_proof_of_a_three_leaf_tree_reaches_its_root_and_nothing_else_does() {
        let leaves: Vec<[u8; 32]> = (0u8..3).map(|byte| leaf_hash(&[byte])).collect();
        let left = node_hash(&leaves[0], &leaves[1]);
        let root = node_hash(&left, &leaves[2]);
        assert_eq!(root_from_inclusion_proof(0, 3, leaves[0], &[leaves[1], leaves[2]]), Some(root));
        assert_eq!(root_from_inclusion_proof(1, 3, leaves[1], &[leaves[0], leaves[2]]), Some(root));
        assert_eq!(root_from_inclusion_proof(2, 3, leaves[2], &[left]), Some(root));
        assert_ne!(root_from_inclusion_proof(2, 3, leaves[1], &[left]), Some(root), "another leaf");
        assert_eq!(root_from_inclusion_proof(2, 3, leaves[2], &[left, left]), None, "a proof too long");
        assert_eq!(root_from_inclusion_proof(3, 3, leaves[2], &[left]), None, "an index past the tree");
    }
}
