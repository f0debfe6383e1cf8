//! Fuzzes the signed-note verifier key reader (signing's `witness::domain::VerifierKey::parse`), which
//! reads the witnesses' and logs' keys from configuration and requests. A key it accepts prints as a
//! key that reads back the same, and as the input but for the case of its hex key ID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_signing::witness::domain::VerifierKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(key) = VerifierKey::parse(text) else { return };
    let printed = key.to_string();
    assert_eq!(VerifierKey::parse(&printed).as_ref(), Ok(&key));
    let (name, rest) = text.split_once('+').expect("an accepted key has a '+'");
    let (id, encoded) = rest.split_once('+').expect("an accepted key has two '+'");
    assert_eq!(printed, format!("{name}+{}+{encoded}", id.to_ascii_lowercase()));
});
