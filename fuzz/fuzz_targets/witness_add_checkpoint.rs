//! Fuzzes the witness's `add-checkpoint` request body reader (signing's
//! `witness::domain::parse_add_checkpoint`), then the checkpoint it carries as the witness reads it. A
//! body it accepts is written back byte for byte by `add_checkpoint_body`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_signing::{domain::checkpoint, witness::domain};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    let Ok(request) = domain::parse_add_checkpoint(body) else { return };
    assert!(request.proof.len() <= domain::MAX_PROOF_LINES);
    assert_eq!(domain::add_checkpoint_body(request.old_size, &request.proof, &request.checkpoint), body);
    let _ = checkpoint::parse(&request.checkpoint);
});
