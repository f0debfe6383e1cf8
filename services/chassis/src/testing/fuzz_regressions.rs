//! The inputs kept under fuzz/regressions/<target>/ (each once crashed a fuzz target, or seeds it), for
//! the tests that replay them through the same parser on every `cargo test` (see docs/testing.md).

use std::path::{Path, PathBuf};

/// Every file of fuzz/regressions/`target`/, in name order, with its bytes; panics if there is none,
/// so a renamed folder cannot turn a replay into a test of nothing.
pub fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{} cannot be read: {error}", folder.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", folder.display());
    files.into_iter().map(|path| (path.clone(), std::fs::read(&path).expect("a readable input"))).collect()
}

/// The inputs of `target` that are UTF-8, as the text targets read them (they skip the others).
pub fn texts(target: &str) -> Vec<(PathBuf, String)> {
    inputs(target)
        .into_iter()
        .filter_map(|(path, bytes)| String::from_utf8(bytes).ok().map(|text| (path, text)))
        .collect()
}
