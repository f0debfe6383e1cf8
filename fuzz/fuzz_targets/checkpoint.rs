//! Fuzzes the signed-note checkpoint reader (signing's `domain::checkpoint::parse`), which reads the
//! checkpoints of replicas, witnesses and clients. A checkpoint it accepts is written back byte for
//! byte from its parts: the body, a blank line and its signature lines.
#![no_main]

use base64::{Engine, engine::general_purpose::STANDARD};
use libfuzzer_sys::fuzz_target;
use motcua_signing::domain::checkpoint::{self, MAX_SIGNATURES};

fuzz_target!(|data: &[u8]| {
    let Ok(note) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = checkpoint::parse(note) else { return };
    let mut text = checkpoint::body(&parsed.origin, parsed.tree_size, &parsed.root_hash);
    for extension in &parsed.extensions {
        text.push_str(extension);
        text.push('\n');
    }
    assert_eq!(text, parsed.text, "the note text is the body and the extension lines");
    assert!((1..=MAX_SIGNATURES).contains(&parsed.signatures.len()));
    let mut written = format!("{text}\n");
    for signature in &parsed.signatures {
        let mut bytes = signature.key_id.to_vec();
        bytes.extend_from_slice(&signature.signature);
        written.push_str(&format!("\u{2014} {} {}\n", signature.key_name, STANDARD.encode(bytes)));
    }
    assert_eq!(written, note, "an accepted note is written back as it was read");
});
