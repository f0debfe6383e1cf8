//! `motcua up` and `motcua demo` as a newcomer runs them: the four services in one process on their
//! own SQLite files, and one dossier taken from filing to a signed, sealed, receipted, returned, rated
//! and reported result. On 127.0.0.3, so that a `make run` on 127.0.0.1 is not disturbed.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const HOST: &str = "127.0.0.3";

/// Stops the suite when the test ends, however it ends.
struct Suite(std::process::Child);

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_demo_takes_one_dossier_through_the_whole_suite_and_reporting_counts_it() {
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
        let output = Command::new(motcua).args(["demo", "--host", HOST]).output().expect("motcua demo runs");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "run {run}: {text}{}", String::from_utf8_lossy(&output.stderr));
        for step in [
            "1. signers",
            "4. the officer signed",
            "5. the leader approved and the seal was applied",
            "6. fee receipt",
            "7. the result was returned",
        ] {
            assert!(text.contains(step), "run {run} lacks {step:?}: {text}");
        }
        // A second run finds the signers of the first and adds a second dossier to the day's counts.
        assert!(
            text.contains(&format!("8. reporting today at CN01: {run} received, {run} resolved on time, {run} signed and sealed, {run} returned, {run} fee receipts")),
            "run {run}: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}
