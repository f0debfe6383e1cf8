//! The witness protocol's formats, pure: signed-note verifier keys, the C2SP tlog-witness
//! `add-checkpoint` request body, and C2SP tlog-cosignature v1 Ed25519 cosignatures (their key IDs,
//! signed message, signature lines and verification).

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::domain::{
    checkpoint::{NoteSignature, is_valid_key_name},
    merkle::Hash,
};

/// The signed-note signature type of a log's Ed25519 checkpoint signature.
pub const ED25519: u8 = 0x01;
/// The signed-note signature type of an Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature).
pub const COSIGNATURE_V1: u8 = 0x04;
/// The most consistency proof lines a request may carry (c2sp.org/tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;
/// The length of a cosignature after its key ID: a u64 timestamp and an Ed25519 signature.
const TIMESTAMPED_SIGNATURE_LENGTH: usize = 8 + 64;

/// The 4-byte key ID of an Ed25519 key of signature type `algorithm`:
/// SHA-256(name || "\n" || algorithm || key)[..4].
pub fn key_id(name: &str, algorithm: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([algorithm]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A signed-note verifier key (`<name>+<hex key ID>+<base64(type || key)>`) of an Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key's name: a log's origin, or a witness's name.
    pub name: String,
    /// Its signature type: [`ED25519`] for a log, [`COSIGNATURE_V1`] for a witness.
    pub algorithm: u8,
    /// The public key.
    pub key: VerifyingKey,
}

/// Why a text is not a verifier key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierKeyError {
    #[error("a verifier key is <name>+<8 hex digits>+<base64 of the type byte and the key>")]
    Malformed,
    #[error("the key name must be non-empty, without spaces or '+'")]
    BadName,
    #[error("only Ed25519 keys (type 0x01) and Ed25519 cosigners (type 0x04) are supported")]
    UnsupportedType,
    #[error("the key ID does not match the name and the key")]
    KeyIdMismatch,
}

impl VerifierKey {
    /// The verifier key of `key` named `name`, of signature type `algorithm`.
    pub fn new(name: &str, algorithm: u8, key: VerifyingKey) -> Self {
        Self { name: name.to_owned(), algorithm, key }
    }

    /// Reads a verifier key, checking its key ID.
    pub fn parse(text: &str) -> Result<Self, VerifierKeyError> {
        let (name, rest) = text.split_once('+').ok_or(VerifierKeyError::Malformed)?;
        let (id, encoded) = rest.split_once('+').ok_or(VerifierKeyError::Malformed)?;
        if !is_valid_key_name(name) {
            return Err(VerifierKeyError::BadName);
        }
        let id: [u8; 4] = hex::decode(id)
            .ok()
            .filter(|_| id.len() == 8)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(VerifierKeyError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| VerifierKeyError::Malformed)?;
        let (&algorithm, key) = bytes.split_first().ok_or(VerifierKeyError::Malformed)?;
        if algorithm != ED25519 && algorithm != COSIGNATURE_V1 {
            return Err(VerifierKeyError::UnsupportedType);
        }
        let key: [u8; 32] = key.try_into().map_err(|_| VerifierKeyError::Malformed)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| VerifierKeyError::Malformed)?;
        let parsed = Self::new(name, algorithm, key);
        if parsed.key_id() != id {
            return Err(VerifierKeyError::KeyIdMismatch);
        }
        Ok(parsed)
    }

    /// Its key ID.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.algorithm, &self.key)
    }

    /// Whether `signature` is a line of this key: its name and its key ID.
    pub fn names(&self, signature: &NoteSignature) -> bool {
        signature.key_name == self.name && signature.key_id == self.key_id()
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut encoded = vec![self.algorithm];
        encoded.extend_from_slice(self.key.as_bytes());
        write!(formatter, "{}+{}+{}", self.name, hex::encode(self.key_id()), STANDARD.encode(encoded))
    }
}

/// An `add-checkpoint` request, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness cosigned last (0 for none).
    pub old_size: u64,
    /// The consistency proof from that size to the checkpoint's.
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note (read with [`crate::domain::checkpoint::parse`]).
    pub checkpoint: String,
}

/// Why a text is not an `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is an old size line, proof lines and an empty line, then the checkpoint")]
    NoEmptyLine,
    #[error("the first line must be 'old <size>', the size in decimal without leading zeros")]
    BadOldSize,
    #[error("proof line {0} is not the base64 of a 32-byte hash")]
    BadProofLine(usize),
    #[error("a request carries at most {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
}

/// The request body: `old <old_size>`, one base64 hash a line, an empty line, the checkpoint note.
pub fn add_checkpoint_body(old_size: u64, proof: &[Hash], checkpoint: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(checkpoint);
    body
}

/// Reads a request body strictly, as c2sp.org/tlog-witness writes it.
pub fn parse_add_checkpoint(body: &str) -> Result<AddCheckpoint, BodyError> {
    // The old size and proof lines are never empty, so the first empty line ends them.
    let end = body.find("\n\n").ok_or(BodyError::NoEmptyLine)?;
    let (header, checkpoint) = (&body[..end], &body[end + 2..]);
    let mut lines = header.split('\n');
    let old_size = lines.next().and_then(|line| line.strip_prefix("old ")).ok_or(BodyError::BadOldSize)?;
    let canonical =
        old_size.bytes().all(|byte| byte.is_ascii_digit()) && (old_size == "0" || !old_size.starts_with('0'));
    let old_size = old_size.parse().ok().filter(|_| canonical).ok_or(BodyError::BadOldSize)?;
    let proof = lines
        .enumerate()
        .map(|(index, line)| {
            STANDARD.decode(line).ok().and_then(|bytes| bytes.try_into().ok()).ok_or(BodyError::BadProofLine(index + 1))
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    if proof.len() > MAX_PROOF_LINES {
        return Err(BodyError::TooManyProofLines);
    }
    Ok(AddCheckpoint { old_size, proof, checkpoint: checkpoint.to_owned() })
}

/// The message an Ed25519 cosignature/v1 signs: `cosignature/v1`, `time <timestamp>`, then the
/// checkpoint's note text (its body lines with their newlines, no signature line).
pub fn cosigned_message(timestamp: u64, checkpoint_text: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// The cosignature line of the witness `name` with `key` over `checkpoint_text` at `timestamp` (POSIX
/// seconds): `— <name> base64(key ID || timestamp, big-endian || signature)`, ending in a newline.
pub fn cosign(name: &str, key: &SigningKey, timestamp: u64, checkpoint_text: &str) -> String {
    let signature = key.sign(cosigned_message(timestamp, checkpoint_text).as_bytes());
    let mut bytes = key_id(name, COSIGNATURE_V1, &key.verifying_key()).to_vec();
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&signature.to_bytes());
    format!("\u{2014} {name} {}\n", STANDARD.encode(bytes))
}

/// The timestamp of `signature` when it is a valid cosignature/v1 of `witness` over
/// `checkpoint_text`; `None` when it is another key's line, malformed, or does not verify.
pub fn verify_cosignature(witness: &VerifierKey, signature: &NoteSignature, checkpoint_text: &str) -> Option<u64> {
    if witness.algorithm != COSIGNATURE_V1 || !witness.names(signature) {
        return None;
    }
    let bytes: &[u8; TIMESTAMPED_SIGNATURE_LENGTH] = signature.signature.as_slice().try_into().ok()?;
    let (timestamp, signature) = bytes.split_at(8);
    let timestamp = u64::from_be_bytes(timestamp.try_into().ok()?);
    if timestamp > i64::MAX as u64 {
        return None;
    }
    let signature = Signature::from_slice(signature).ok()?;
    witness.key.verify(cosigned_message(timestamp, checkpoint_text).as_bytes(), &signature).ok()?;
    Some(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::checkpoint;

    /// The request body given as an example in c2sp.org/tlog-witness.
    const SPEC_BODY: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

    #[test]
    fn the_specifications_example_request_reads_as_old_size_proof_and_checkpoint() {
        let request = parse_add_checkpoint(SPEC_BODY).expect("the example request");
        assert_eq!(request.old_size, 20852014);
        assert_eq!(request.proof.len(), 4);
        assert_eq!(STANDARD.encode(request.proof[3]), "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=");
        let checkpoint = checkpoint::parse(&request.checkpoint).expect("its checkpoint");
        assert_eq!((checkpoint.origin.as_str(), checkpoint.tree_size), ("example.com/behind-the-sofa", 20852163));
        assert_eq!(checkpoint.signatures.len(), 2);
        assert_eq!(add_checkpoint_body(request.old_size, &request.proof, &request.checkpoint), SPEC_BODY);
    }

    #[test]
    fn a_first_request_has_old_zero_and_no_proof() {
        let body = add_checkpoint_body(0, &[], "o\n1\nAA==\n\n\u{2014} o AAAAAAE=\n");
        assert!(body.starts_with("old 0\n\no\n1\n"));
        let request = parse_add_checkpoint(&body).expect("a first request");
        assert_eq!((request.old_size, request.proof.len()), (0, 0));
    }

    #[test]
    fn malformed_bodies_are_refused_with_their_reason() {
        let hash = STANDARD.encode([7; 32]);
        for (body, error) in [
            (String::new(), BodyError::NoEmptyLine),
            ("old 3\ncheckpoint".to_owned(), BodyError::NoEmptyLine),
            ("old 03\n\nc".to_owned(), BodyError::BadOldSize),
            ("old -3\n\nc".to_owned(), BodyError::BadOldSize),
            ("old  3\n\nc".to_owned(), BodyError::BadOldSize),
            ("Old 3\n\nc".to_owned(), BodyError::BadOldSize),
            ("old 18446744073709551616\n\nc".to_owned(), BodyError::BadOldSize),
            (format!("old 3\n{hash}\nnot a hash\n\nc"), BodyError::BadProofLine(2)),
            (format!("old 3\n{}\n\nc", STANDARD.encode([7; 31])), BodyError::BadProofLine(1)),
            (format!("old 3\n{}\nc", format!("{hash}\n").repeat(64)), BodyError::TooManyProofLines),
        ] {
            assert_eq!(parse_add_checkpoint(&body), Err(error), "{body:?}");
        }
        let sixty_three = format!("old 3\n{}\nc", format!("{hash}\n").repeat(63));
        assert_eq!(parse_add_checkpoint(&sixty_three).map(|request| request.proof.len()), Ok(63));
    }

    #[test]
    fn the_specifications_example_cosignature_carries_its_timestamp_after_the_key_id() {
        // The example of c2sp.org/tlog-cosignature, whose signed message shows `time 1679315147`.
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let note =
            format!("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n{line}\n");
        let signature = &checkpoint::parse(&note).expect("a cosigned checkpoint").signatures[0];
        assert_eq!(signature.signature.len(), TIMESTAMPED_SIGNATURE_LENGTH);
        assert_eq!(u64::from_be_bytes(signature.signature[..8].try_into().expect("8 bytes")), 1679315147);
        assert_eq!(
            cosigned_message(1679315147, &checkpoint::parse(&note).expect("read").text),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosignature_verifies_with_the_witness_key_only_and_over_its_checkpoint_only() {
        let witness = SigningKey::from_bytes(&[4; 32]);
        let text = checkpoint::body("example.org/log", 5, &[9; 32]);
        let line = cosign("witness.example/w1", &witness, 1_700_000_000, &text);
        let log = SigningKey::from_bytes(&[1; 32]);
        let note = format!("{}{line}", checkpoint::sign("example.org/log", &log, &text));
        let parsed = checkpoint::parse(&note).expect("a cosigned checkpoint");
        let cosignature = &parsed.signatures[1];
        let verifier = VerifierKey::new("witness.example/w1", COSIGNATURE_V1, witness.verifying_key());
        assert_eq!(verify_cosignature(&verifier, cosignature, &parsed.text), Some(1_700_000_000));
        let other = VerifierKey::new("witness.example/w1", COSIGNATURE_V1, log.verifying_key());
        assert_eq!(verify_cosignature(&other, cosignature, &parsed.text), None);
        let other_text = checkpoint::body("example.org/log", 6, &[9; 32]);
        assert_eq!(verify_cosignature(&verifier, cosignature, &other_text), None);
        // The log's own signature line is not a cosignature, even under the witness's name.
        assert_eq!(verify_cosignature(&verifier, &parsed.signatures[0], &parsed.text), None);
    }

    #[test]
    fn verifier_keys_read_back_and_a_wrong_key_id_is_refused() {
        let key = SigningKey::from_bytes(&[4; 32]).verifying_key();
        let witness = VerifierKey::new("witness.example/w1", COSIGNATURE_V1, key);
        assert_eq!(VerifierKey::parse(&witness.to_string()), Ok(witness.clone()));
        let log = VerifierKey::new("example.org/log", ED25519, key);
        assert_eq!(log.to_string(), checkpoint::verifier_key("example.org/log", &key), "the log's own format");
        assert_eq!(VerifierKey::parse(&log.to_string()), Ok(log));
        let text = witness.to_string();
        let (name, rest) = text.split_once('+').expect("a name");
        assert_eq!(
            VerifierKey::parse(&format!("{name}+00000000+{}", &rest[9..])),
            Err(VerifierKeyError::KeyIdMismatch)
        );
        assert_eq!(VerifierKey::parse(&format!("other name+{rest}")), Err(VerifierKeyError::BadName));
        assert_eq!(VerifierKey::parse("witness.example"), Err(VerifierKeyError::Malformed));
        let mut encoded = vec![0x02];
        encoded.extend_from_slice(key.as_bytes());
        let unsupported = format!("{name}+{}+{}", hex::encode(key_id(name, 0x02, &key)), STANDARD.encode(encoded));
        assert_eq!(VerifierKey::parse(&unsupported), Err(VerifierKeyError::UnsupportedType));
    }
}
