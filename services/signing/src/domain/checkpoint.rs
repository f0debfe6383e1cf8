//! Checkpoints of the transparency log as C2SP tlog-checkpoint text inside a C2SP signed note, signed
//! with the log's Ed25519 key, the signed-note verifier key that names it, and the strict reader of
//! such notes that a client or a replica uses to read one back.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The signed-note algorithm byte of Ed25519.
const ED25519_ALGORITHM: u8 = 0x01;

/// The most signature lines a note may carry: the signed-note specification asks verifiers to bound
/// them and to accept at least 16 (the log's own and its witnesses').
pub const MAX_SIGNATURES: usize = 16;

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

/// Whether `name` may name a signed-note key or a checkpoint's origin: non-empty, with neither
/// Unicode spaces nor `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|character| character.is_whitespace() || character == '+')
}

/// A checkpoint read from a signed note. Its signatures are read, not verified: [`Checkpoint::verify`]
/// checks one against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The note text the signatures sign: the body lines, each with its newline.
    pub text: String,
    /// The log's identity, the first line.
    pub origin: String,
    /// The number of leaves.
    pub tree_size: u64,
    /// The Merkle tree root at that size.
    pub root_hash: Hash,
    /// The opaque lines after the root hash, if any.
    pub extensions: Vec<String>,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// One signature line: `— <key name> base64(key ID || signature)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key's name.
    pub key_name: String,
    /// The 4-byte key ID, [`key_hash`] for an Ed25519 key.
    pub key_id: [u8; 4],
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

/// Why a text is not a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("a signed note may contain no control character other than newline")]
    ControlCharacter,
    #[error("a signed note is its text, a blank line and signature lines, each ending in a newline")]
    NotASignedNote,
    #[error("a checkpoint's body is at least three non-empty lines: origin, tree size and root hash")]
    ShortOrEmptyLine,
    #[error("the origin must be non-empty, without spaces or '+'")]
    BadOrigin,
    #[error("the tree size must be a decimal number without leading zeros that fits 64 bits")]
    BadTreeSize,
    #[error("the root hash must be the base64 of 32 bytes")]
    BadRootHash,
    #[error("signature line {0} is not '— <key name> <base64 of a key ID and a signature>'")]
    BadSignatureLine(usize),
    #[error("a note may carry at most {MAX_SIGNATURES} signatures")]
    TooManySignatures,
}

/// Reads a signed checkpoint strictly, as c2sp.org/signed-note and c2sp.org/tlog-checkpoint say: UTF-8
/// without control characters but newline; the text ends at the last blank line; the body's lines are
/// non-empty: an origin that is a valid key name, the tree size in decimal with no leading zero (but
/// `0` itself), the standard base64 of a 32-byte root hash, then any extension lines; then one to
/// [`MAX_SIGNATURES`] signature lines of a valid key name and the base64 of a key ID and at least one
/// byte of signature.
pub fn parse(note: &str) -> Result<Checkpoint, ParseError> {
    if note.chars().any(|character| character < ' ' && character != '\n') {
        return Err(ParseError::ControlCharacter);
    }
    let split = note.rfind("\n\n").ok_or(ParseError::NotASignedNote)?;
    let (text, signature_block) = (&note[..split + 1], &note[split + 2..]);
    let body = text.strip_suffix('\n').ok_or(ParseError::NotASignedNote)?;
    let lines: Vec<&str> = body.split('\n').collect();
    let [origin, tree_size, root_hash, extensions @ ..] = lines.as_slice() else {
        return Err(ParseError::ShortOrEmptyLine);
    };
    if lines.iter().any(|line| line.is_empty()) {
        return Err(ParseError::ShortOrEmptyLine);
    }
    if !is_valid_key_name(origin) {
        return Err(ParseError::BadOrigin);
    }
    let canonical_size =
        tree_size.bytes().all(|byte| byte.is_ascii_digit()) && (*tree_size == "0" || !tree_size.starts_with('0'));
    let tree_size: u64 = tree_size.parse().ok().filter(|_| canonical_size).ok_or(ParseError::BadTreeSize)?;
    let root_hash: Hash =
        STANDARD.decode(root_hash).ok().and_then(|bytes| bytes.try_into().ok()).ok_or(ParseError::BadRootHash)?;
    let signature_lines = signature_block.strip_suffix('\n').ok_or(ParseError::NotASignedNote)?;
    if signature_lines.split('\n').count() > MAX_SIGNATURES {
        return Err(ParseError::TooManySignatures);
    }
    let signatures = signature_lines
        .split('\n')
        .enumerate()
        .map(|(index, line)| parse_signature_line(line).ok_or(ParseError::BadSignatureLine(index + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Checkpoint {
        text: text.to_owned(),
        origin: (*origin).to_owned(),
        tree_size,
        root_hash,
        extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
        signatures,
    })
}

fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let (key_name, encoded) = line.strip_prefix("\u{2014} ")?.split_once(' ')?;
    if !is_valid_key_name(key_name) {
        return None;
    }
    let bytes = STANDARD.decode(encoded).ok()?;
    if bytes.len() < 5 {
        return None;
    }
    let (key_id, signature) = bytes.split_at(4);
    Some(NoteSignature {
        key_name: key_name.to_owned(),
        key_id: key_id.try_into().ok()?,
        signature: signature.to_vec(),
    })
}

impl Checkpoint {
    /// Whether the Ed25519 key `key` named `name` signed this checkpoint: at least one signature line
    /// has that name and key ID, and every such line verifies over the note text. Signatures of other
    /// keys are ignored, as the specification requires.
    pub fn verify(&self, name: &str, key: &VerifyingKey) -> bool {
        let key_id = key_hash(name, key);
        let mut lines = self.signatures.iter().filter(|line| line.key_name == name && line.key_id == key_id).peekable();
        lines.peek().is_some()
            && lines.all(|line| {
                Signature::from_slice(&line.signature)
                    .is_ok_and(|signature| key.verify(self.text.as_bytes(), &signature).is_ok())
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::{
        prelude::*,
        test_runner::{Config, TestRunner},
    };

    use super::*;

    const ORIGIN: &str = "example.org/log";

    fn signed(tree_size: u64, root_hash: &Hash) -> String {
        sign(ORIGIN, &SigningKey::from_bytes(&[7; 32]), &body(ORIGIN, tree_size, root_hash))
    }

    #[test]
    fn a_signed_note_reads_back_as_its_body_and_one_verifiable_signature() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let note = signed(3, &[9; 32]);
        let checkpoint = parse(&note).expect("a signed checkpoint");
        assert_eq!(checkpoint.text, body(ORIGIN, 3, &[9; 32]));
        assert_eq!((checkpoint.origin.as_str(), checkpoint.tree_size, checkpoint.root_hash), (ORIGIN, 3, [9; 32]));
        assert!(checkpoint.extensions.is_empty());
        assert_eq!(checkpoint.signatures.len(), 1);
        assert_eq!(checkpoint.signatures[0].key_name, ORIGIN);
        assert_eq!(checkpoint.signatures[0].key_id, key_hash(ORIGIN, &key.verifying_key()));
        assert!(checkpoint.verify(ORIGIN, &key.verifying_key()));
        assert!(!checkpoint.verify(ORIGIN, &SigningKey::from_bytes(&[8; 32]).verifying_key()));
        assert!(!checkpoint.verify("example.org/other", &key.verifying_key()));
    }

    #[test]
    fn a_changed_body_no_longer_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let note = signed(3, &[9; 32]).replacen("\n3\n", "\n4\n", 1);
        let checkpoint = parse(&note).expect("still well-formed");
        assert_eq!(checkpoint.tree_size, 4);
        assert!(!checkpoint.verify(ORIGIN, &key.verifying_key()));
    }

    #[test]
    fn extension_lines_and_witness_signatures_are_kept_and_foreign_signatures_ignored() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = format!("{}extension one\n", body(ORIGIN, 0, &[0; 32]));
        let note = format!("{}\u{2014} witness.example AAAAAAE=\n", sign(ORIGIN, &key, &text));
        let checkpoint = parse(&note).expect("a checkpoint with an extension and a cosignature");
        assert_eq!(checkpoint.tree_size, 0);
        assert_eq!(checkpoint.extensions, ["extension one"]);
        assert_eq!(checkpoint.signatures.len(), 2);
        assert_eq!(checkpoint.signatures[1].key_name, "witness.example");
        assert!(checkpoint.verify(ORIGIN, &key.verifying_key()));
    }

    #[test]
    fn malformed_checkpoints_are_refused_with_their_reason() {
        let good = signed(3, &[9; 32]);
        let root = STANDARD.encode([9; 32]);
        let signature_line = good.rsplit_once("\n\n").expect("a blank line").1;
        let with_body = |body: &str| format!("{body}\n{signature_line}");
        for (note, error) in [
            (String::new(), ParseError::NotASignedNote),
            (good.trim_end().to_owned(), ParseError::NotASignedNote),
            (good.replace("\n\n", "\n"), ParseError::NotASignedNote),
            (good.replace('\n', "\r\n"), ParseError::ControlCharacter),
            (good.replace("example.org/log\n3", "example.org/log\n3\t"), ParseError::ControlCharacter),
            (with_body(&format!("{ORIGIN}\n3\n")), ParseError::ShortOrEmptyLine),
            (with_body(&format!("{ORIGIN}\n3\n{root}\n\nextension\n")), ParseError::ShortOrEmptyLine),
            (with_body(&format!("\n3\n{root}\n")), ParseError::ShortOrEmptyLine),
            (with_body(&format!("example.org log\n3\n{root}\n")), ParseError::BadOrigin),
            (with_body(&format!("example.org+log\n3\n{root}\n")), ParseError::BadOrigin),
            (with_body(&format!("{ORIGIN}\n03\n{root}\n")), ParseError::BadTreeSize),
            (with_body(&format!("{ORIGIN}\n+3\n{root}\n")), ParseError::BadTreeSize),
            (with_body(&format!("{ORIGIN}\n-3\n{root}\n")), ParseError::BadTreeSize),
            (with_body(&format!("{ORIGIN}\n18446744073709551616\n{root}\n")), ParseError::BadTreeSize),
            (with_body(&format!("{ORIGIN}\n3\n{}\n", STANDARD.encode([9; 31]))), ParseError::BadRootHash),
            (with_body(&format!("{ORIGIN}\n3\n{}\n", root.trim_end_matches('='))), ParseError::BadRootHash),
            (good.replace('\u{2014}', "-"), ParseError::BadSignatureLine(1)),
            (good.replace(&format!("\u{2014} {ORIGIN} "), "\u{2014} "), ParseError::BadSignatureLine(1)),
            (format!("{good}\u{2014} {ORIGIN} AAAAAA==\n"), ParseError::BadSignatureLine(2)),
            (format!("{good}{}", signature_line.repeat(MAX_SIGNATURES)), ParseError::TooManySignatures),
        ] {
            assert_eq!(parse(&note), Err(error.clone()), "{note:?}");
        }
        let sixteen = format!("{good}{}", signature_line.repeat(MAX_SIGNATURES - 1));
        assert_eq!(parse(&sixteen).map(|checkpoint| checkpoint.signatures.len()), Ok(MAX_SIGNATURES));
    }

    #[test]
    fn key_names_have_no_spaces_and_no_plus() {
        assert!(is_valid_key_name("motcua.example/signing-log"));
        assert!(is_valid_key_name("sở-tư-pháp.example"));
        for name in ["", "a b", "a+b", "a\u{3000}b", "a\u{a0}b"] {
            assert!(!is_valid_key_name(name), "{name:?}");
        }
    }

    #[test]
    fn the_verifier_key_names_the_log_and_its_key() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = verifier_key(ORIGIN, &key);
        let parts: Vec<_> = text.split('+').collect();
        assert_eq!(parts[0], ORIGIN);
        assert_eq!(parts[1].len(), 8);
        assert_eq!(STANDARD.decode(parts[2]).expect("base64").len(), 33);
    }

    /// A bounded run with no failure file: a failure prints its minimal input, which becomes a unit test.
    fn runner(cases: u32) -> TestRunner {
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
    }

    #[test]
    fn arbitrary_text_never_panics_the_reader() {
        let line = prop_oneof![
            any::<String>(),
            "[a-z./+ ]{0,12}",
            "[0-9+-]{0,22}",
            "[A-Za-z0-9+/=]{0,48}",
            "\u{2014} [a-z.+]{0,8} [A-Za-z0-9+/=]{0,100}",
        ];
        let note = proptest::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"));
        runner(512)
            .run(&note, |note| {
                let _ = parse(&note);
                let _ = parse(&format!("{note}\n"));
                Ok(())
            })
            .expect("the reader returns for any text");
    }

    #[test]
    fn every_signed_body_reads_back_as_written() {
        let origin = "[a-zA-Z0-9./_-]{1,30}|[^\\s+\\p{Cc}]{1,20}";
        let checkpoint = (origin, any::<u64>(), any::<[u8; 32]>(), any::<[u8; 32]>());
        runner(128)
            .run(&checkpoint, |(origin, tree_size, root_hash, secret)| {
                let key = SigningKey::from_bytes(&secret);
                let note = sign(&origin, &key, &body(&origin, tree_size, &root_hash));
                let checkpoint = parse(&note).map_err(|error| TestCaseError::fail(format!("{note:?}: {error}")))?;
                prop_assert_eq!(&checkpoint.origin, &origin);
                prop_assert_eq!(checkpoint.tree_size, tree_size);
                prop_assert_eq!(checkpoint.root_hash, root_hash);
                prop_assert!(checkpoint.verify(&origin, &key.verifying_key()));
                Ok(())
            })
            .expect("every checkpoint the log signs reads back");
    }
}
