//! The workspace's binaries, for tests that run them as processes. Cargo hands a package's tests only
//! that package's binaries, so they are asked of cargo (at once when they are fresh). Naming the
//! calling test target too resolves features as `cargo test --workspace` does, whose artifacts the
//! build then reuses.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::{Command, Stdio},
};

/// Builds `binaries` with the test target `test_target` of the package at `manifest_dir` (the caller's
/// `env!("CARGO_MANIFEST_DIR")`), and returns each binary's executable by name.
pub fn build(manifest_dir: &str, test_target: &str, binaries: &[&str]) -> HashMap<String, PathBuf> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(manifest_dir).args([
        "build",
        "--message-format=json-render-diagnostics",
        "--workspace",
        "--test",
        test_target,
    ]);
    for binary in binaries {
        cargo.args(["--bin", binary]);
    }
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    // What cargo set for this test's run (CARGO_PKG_NAME, CARGO_MANIFEST_DIR ...): build scripts that
    // rerun when these change (ring's) would otherwise be rebuilt, and then again by the next
    // `cargo test`.
    for (variable, _) in std::env::vars_os() {
        let name = variable.to_string_lossy();
        let set_for_this_run = ["CARGO_PKG_", "CARGO_BIN_EXE_"].iter().any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_this_run {
            cargo.env_remove(&variable);
        }
    }
    let output = cargo.stderr(Stdio::inherit()).output().expect("cargo runs");
    assert!(output.status.success(), "cargo could not build {binaries:?}");
    let built: HashMap<String, PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| {
            let name = message["target"]["name"].as_str()?.to_owned();
            let executable = message["executable"].as_str()?;
            binaries.contains(&name.as_str()).then(|| (name, PathBuf::from(executable)))
        })
        .collect();
    for binary in binaries {
        assert!(built.contains_key(*binary), "cargo names the {binary} executable it built");
    }
    built
}
