//! The inputs that once crashed a fuzz target of the chassis's parsers (fuzz/regressions/page_token/
//! and policy/, see docs/testing.md), fed to the parser as the target does on every `cargo test`: each
//! must return instead of panicking. A crash `make fuzz` finds is fixed and its input dropped there.

use std::path::{Path, PathBuf};

use motcua_chassis::{paging, policy::Policy};

/// The UTF-8 files of fuzz/regressions/<target>/ (the targets skip the others); at least one file.
fn texts(target: &str) -> Vec<(PathBuf, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{} cannot be read: {error}", folder.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", folder.display());
    files
        .into_iter()
        .filter_map(|path| {
            String::from_utf8(std::fs::read(&path).expect("a readable input")).ok().map(|text| (path, text))
        })
        .collect()
}

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
