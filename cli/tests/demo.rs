//! `motcua up` and `motcua demo --out` as a newcomer runs them: the four services in one process on
//! their own SQLite files, one dossier taken from filing to a signed, sealed, receipted, returned, rated
//! and reported result, and every file the demo writes checked the way an outsider would: each `.p7s`
//! with `openssl cms -verify` against `chain.pem` (and refused once a byte of the document changes),
//! and each inclusion proof against the checkpoint's root by an RFC 9162 computation of this test's own.
//! On 127.0.0.3, so that a `make run` on 127.0.0.1 is not disturbed.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use motcua_testkit::verify::{leaf_hash, openssl_verify, root_from_inclusion_proof};

const HOST: &str = "127.0.0.3";

/// Stops the suite when the test ends, however it ends.
struct Suite(std::process::Child);

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Checks every artifact of a demo run in `out`.
fn check_artifacts(out: &Path) {
    for file in [
        "result.pdf",
        "result.officer.p7s",
        "result.seal.p7s",
        "chain.pem",
        "receipt.xml",
        "receipt.p7s",
        "receipt.pdf",
        "slip.pdf",
        "checkpoint.txt",
        "inclusion-proofs.json",
        "summary.json",
        "VERIFY.md",
    ] {
        assert!(out.join(file).is_file(), "the demo wrote {file}");
    }
    let pdf = std::fs::read(out.join("result.pdf")).expect("result.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "the result is a real PDF");
    let verify = std::fs::read_to_string(out.join("VERIFY.md")).expect("VERIFY.md");
    for (content, signature) in
        [("result.pdf", "result.officer.p7s"), ("result.pdf", "result.seal.p7s"), ("receipt.xml", "receipt.p7s")]
    {
        assert!(verify.contains(&format!("-content {content} -inform DER -in {signature} -CAfile chain.pem")));
        let (verified, said) = openssl_verify(out, content, signature);
        assert!(verified, "{signature} verifies over {content} against chain.pem:\n{said}");
        let mut changed = std::fs::read(out.join(content)).expect("the content");
        let middle = changed.len() / 2;
        changed[middle] ^= 0x01;
        std::fs::write(out.join("changed"), &changed).expect("written");
        assert!(!openssl_verify(out, "changed", signature).0, "{signature} fails over a changed byte of {content}");
    }

    // checkpoint.txt: origin, tree size, base64 root hash, a blank line, then signature lines.
    let checkpoint = std::fs::read_to_string(out.join("checkpoint.txt")).expect("checkpoint.txt");
    let lines: Vec<&str> = checkpoint.lines().collect();
    let tree_size: u64 = lines[1].parse().expect("the tree size");
    let root: [u8; 32] = STANDARD.decode(lines[2]).expect("a base64 root").try_into().expect("32 bytes");
    assert!(lines.iter().any(|line| line.starts_with("— ")), "a signed note: {checkpoint}");
    let proofs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("inclusion-proofs.json")).expect("proofs"))
            .expect("JSON");
    let proofs = proofs["proofs"].as_array().expect("a list of proofs");
    assert_eq!(proofs.len(), 3, "one proof per signature: {proofs:?}");
    for proof in proofs {
        let index = proof["leaf_index"].as_u64().expect("leaf_index");
        assert_eq!(proof["tree_size"].as_u64(), Some(tree_size), "proved against the checkpoint's tree");
        let leaf = STANDARD.decode(proof["leaf_data_base64"].as_str().expect("leaf data")).expect("base64");
        let leaf_hash = leaf_hash(&leaf);
        let path: Vec<[u8; 32]> = proof["proof_hashes_hex"]
            .as_array()
            .expect("hashes")
            .iter()
            .map(|hash| hex::decode(hash.as_str().expect("hex")).expect("hex").try_into().expect("32 bytes"))
            .collect();
        assert_eq!(root_from_inclusion_proof(index, tree_size, leaf_hash, &path), Some(root), "{proof}");
        let mut other_leaf = leaf_hash;
        other_leaf[0] ^= 1;
        assert_ne!(
            root_from_inclusion_proof(index, tree_size, other_leaf, &path),
            Some(root),
            "another leaf is not proved"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("JSON");
    assert!(summary["counters"]["resolved_signed_and_sealed"].as_i64() >= Some(1), "{summary}");
}

#[test]
fn the_demo_takes_one_dossier_through_the_whole_suite_and_writes_files_anyone_can_verify() {
    let data = std::env::temp_dir().join(format!("motcua-demo-{}", std::process::id()));
    let motcua = env!("CARGO_BIN_EXE_motcua");
    let _suite = Suite(
        Command::new(motcua)
            .args(["up", "--host", HOST, "--data-dir"])
            .arg(&data)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("motcua up starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Command::new(motcua)
        .args(["health", "--host", HOST])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
    {
        assert!(Instant::now() < deadline, "the four services were not healthy within a minute");
        std::thread::sleep(Duration::from_millis(200));
    }
    for run in 1..=2 {
        let out = data.join(format!("out-{run}"));
        let output =
            Command::new(motcua).args(["demo", "--host", HOST, "--out"]).arg(&out).output().expect("motcua demo runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "run {run}: {text}{}", String::from_utf8_lossy(&output.stderr));
        for step in [
            " 1. signers",
            " 3. intake issued the acknowledgement slip",
            " 4. intake issued fee receipt",
            " 6. a supplement was asked for and supplied",
            " 7. receipt rendered the result",
            " 8. the leader approved and the seal was applied",
            " 9. the result was returned",
            "11. wrote the result",
        ] {
            assert!(text.contains(step), "run {run} lacks {step:?}: {text}");
        }
        // A second run finds the signers of the first and adds a second dossier to the day's counts.
        assert!(
            text.contains(&format!("10. reporting today at CN01: {run} received, {run} resolved on time, {run} signed and sealed, {run} returned, {run} slips, {run} fee receipts")),
            "run {run}: {text}"
        );
        check_artifacts(&out);
    }
    let _ = std::fs::remove_dir_all(&data);
}
