//! `motcua bench` against `motcua up` with tiny counts: the run completes and its JSON carries the
//! calls, the throughput, the latency percentiles, the empty-RPC floor with its ratio, and no error.
//! On 127.0.0.6, so that a `make run` on 127.0.0.1 is not disturbed.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

const HOST: &str = "127.0.0.6";

/// Stops the suite when the test ends, however it ends.
struct Suite(std::process::Child);

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn bench_create_dossier_reports_its_calls_percentiles_and_floor_without_errors() {
    let data = std::env::temp_dir().join(format!("motcua-bench-{}", std::process::id()));
    let motcua = env!("CARGO_BIN_EXE_motcua");
    let mut child = Command::new(motcua)
        .args(["up", "--host", HOST, "--data-dir"])
        .arg(&data)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        // A load generator is one caller: the per-identity limits are for agencies, not for it.
        .env("MOTCUA_RATE_LIMIT_PER_IDENTITY", "1000000")
        .env("MOTCUA_CONCURRENCY_PER_IDENTITY", "100000")
        .env("MOTCUA_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("motcua up starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let _suite = Suite(child);
    // `motcua up` says it is up once the branches' receipt series are open, which the bench needs.
    let (up_tx, up_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("motcua is up") {
                let _ = up_tx.send(());
            }
        }
    });
    up_rx.recv_timeout(Duration::from_secs(60)).expect("motcua up said it is up within a minute");

    let json = data.join("bench.json");
    let output = Command::new(motcua)
        .args(["bench", "--host", HOST, "--scenario", "create-dossier", "--count", "50", "--warmup", "200ms"])
        .args(["--floor-duration", "500ms", "--json"])
        .arg(&json)
        .output()
        .expect("motcua bench runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    assert!(said.contains("create-dossier"), "the table names the scenario: {said}");

    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON was written")).expect("JSON");
    let figures = run["figures"].as_array().expect("figures");
    assert_eq!(figures.len(), 1, "one scenario at one concurrency: {run}");
    let figure = &figures[0];
    assert_eq!(figure["scenario"], "create-dossier");
    assert_eq!(figure["calls"].as_u64(), Some(50), "exactly the count asked for: {figure}");
    assert_eq!(figure["errors"].as_object().map(serde_json::Map::len), Some(0), "no error of any code: {figure}");
    assert!(figure["throughput"].as_f64().is_some_and(|throughput| throughput > 0.0), "{figure}");
    let latency = &figure["latency_ms"];
    let percentile = |name: &str| latency[name].as_f64().unwrap_or_else(|| panic!("{name} in {latency}"));
    assert!(percentile("p50") > 0.0, "{latency}");
    assert!(percentile("p50") <= percentile("p90"), "{latency}");
    assert!(percentile("p90") <= percentile("p99"), "{latency}");
    assert!(percentile("p99") <= percentile("p99_9"), "{latency}");
    assert!(percentile("p99_9") <= percentile("max"), "{latency}");
    let floor = &figure["floors"][0];
    assert!(floor["name"].as_str().is_some_and(|name| name.starts_with("empty RPC")), "{figure}");
    assert!(floor["throughput"].as_f64().is_some_and(|throughput| throughput > 0.0), "{floor}");
    assert!(floor["ratio"].as_f64().is_some_and(|ratio| ratio > 0.0), "{floor}");
    let _ = std::fs::remove_dir_all(&data);
}
