//! The independent verifier of the transparency log, written from RFC 9162 and the C2SP specifications
//! (signed notes, tlog-tiles) rather than from the service's code: RFC 9162 hashing and proof checking,
//! and the checkpoint's Ed25519 signature. Shared so every log test checks the service the same way.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// RFC 9162 section 2.1.1: the hash of a leaf, with the 0x00 prefix.
pub fn leaf(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

/// RFC 9162 section 2.1.1: the hash of an interior node, with the 0x01 prefix.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// MTH computed bottom-up with a stack of complete subtrees (RFC 9162 section 2.1.1's result,
/// by another route than the recursive definition).
pub fn root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return Sha256::digest([]).into();
    }
    let mut stack: Vec<(Hash, u64)> = Vec::new();
    for leaf in leaves {
        let mut entry = (*leaf, 1u64);
        while stack.last().is_some_and(|top| top.1 == entry.1) {
            let (left, size) = stack.pop().expect("checked");
            entry = (node(&left, &entry.0), size * 2);
        }
        stack.push(entry);
    }
    let mut accumulated = stack.pop().expect("not empty").0;
    while let Some((left, _)) = stack.pop() {
        accumulated = node(&left, &accumulated);
    }
    accumulated
}

/// RFC 9162 section 2.1.3.2.
pub fn verify_inclusion(index: u64, size: u64, leaf_hash: Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, leaf_hash);
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// RFC 9162 section 2.1.4.2.
pub fn verify_consistency(first: u64, second: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash]) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    let mut path = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let Some((start, rest)) = path.split_first() else { return false };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    &fr == first_root && &sr == second_root && sn == 0
}

/// Checks a C2SP signed note with a signed-note Ed25519 verifier key; returns the checkpoint's
/// (origin, size, root).
pub fn open_checkpoint(note: &str, verifier_key: &str) -> (String, u64, Hash) {
    let mut key_parts = verifier_key.splitn(3, '+');
    let name = key_parts.next().expect("name");
    let key_hash = hex::decode(key_parts.next().expect("key hash")).expect("hex");
    let key_bytes = STANDARD.decode(key_parts.next().expect("key")).expect("base64");
    assert_eq!(key_bytes[0], 1, "an Ed25519 key");
    let key = VerifyingKey::from_bytes(&key_bytes[1..].try_into().expect("32 bytes")).expect("a key");
    let (body, signatures) = note.split_once("\n\n").expect("a blank line ends the body");
    let body = format!("{body}\n");
    let line =
        signatures.lines().find(|line| line.starts_with(&format!("\u{2014} {name} "))).expect("a signature by the key");
    let signature = STANDARD.decode(line.rsplit(' ').next().expect("base64")).expect("base64");
    assert_eq!(signature[..4], key_hash[..], "the signature names the key");
    let signature = Signature::from_slice(&signature[4..]).expect("64 bytes");
    key.verify(body.as_bytes(), &signature).expect("the checkpoint's signature verifies");
    let mut lines = body.lines();
    let origin = lines.next().expect("origin").to_owned();
    let size = lines.next().expect("size").parse().expect("a number");
    let root = STANDARD.decode(lines.next().expect("root")).expect("base64").try_into().expect("32 bytes");
    (origin, size, root)
}

/// A tile index in the C2SP path form: `x001/x234/067`.
pub fn tile_index(index: u64) -> String {
    let mut elements = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        elements.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    elements.reverse();
    elements.join("/")
}

/// The entries of an entry bundle.
pub fn entries(bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while rest.len() >= 2 {
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        entries.push(rest[2..2 + length].to_vec());
        rest = &rest[2 + length..];
    }
    entries
}
