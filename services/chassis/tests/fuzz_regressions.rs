//! The inputs that once crashed a fuzz target of the chassis's parsers (fuzz/regressions/page_token/
//! and policy/, see docs/testing.md), fed to the parser as the target does on every `cargo test`: each
//! must return instead of panicking. A crash `make fuzz` finds is fixed and its input dropped there.

use motcua_chassis::{paging, policy::Policy, testing::fuzz_regressions::texts};

#[test]
fn page_tokens_that_crashed_the_fuzzer_are_read() {
    for (path, text) in texts("page_token") {
        let (token, filter) = text.split_once('\n').unwrap_or((&text, ""));
        if let Ok(Some(key)) = paging::decode_token(token, filter) {
            let again = paging::encode_token(&key, filter);
            assert_eq!(paging::decode_token(&again, filter).ok(), Some(Some(key)), "{path:?}");
        }
    }
}

#[test]
fn policy_files_that_crashed_the_fuzzer_are_read() {
    for (path, text) in texts("policy") {
        if let Ok(policy) = Policy::parse(&text) {
            assert_eq!(Policy::parse(&text).as_ref(), Ok(&policy), "{path:?}");
        }
    }
}
