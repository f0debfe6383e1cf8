//! Benchmark of gap-free numbering: 16 concurrent clients issue receipts on one series, with numbers
//! taken one transaction per receipt (`MOTCUA_RECEIPT_NUMBER_BATCH=1`) and in batches (the default),
//! on SQLite and, when it is reachable, PostgreSQL. Prints receipts a second and the ratio of the two
//! in the same run; `make bench` runs it. Traffic goes to 127.0.0.1 only, and every loop is bounded.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{TestDatabase, start_service_with},
};
use motcua_receipt::settings::{ENV_RECEIPT_NUMBER_BATCH, ENV_RECEIPT_SIGNING_URL};
use tonic::Code;

const CLIENTS: usize = 16;
const RECEIPTS: usize = 2_000;

/// Issues `RECEIPTS` receipts from `CLIENTS` clients against a fresh receipt service numbering
/// `batch` at a time; the time it took.
async fn run(database: &TestDatabase, batch: usize) -> Duration {
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, UNREACHABLE_SIGNING.to_owned());
    config.service_variables.insert(ENV_RECEIPT_NUMBER_BATCH, batch.to_string());
    let server = start_service_with::<motcua_receipt::Receipt>(config).await;
    let mut setup = client(server.local_addr).await;
    let series = fee_series(&mut setup, "CN98", &format!("BB-{batch}E")).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..CLIENTS {
        let address = server.local_addr;
        let series = series.clone();
        tasks.push(tokio::spawn(async move {
            let mut receipt = client(address).await;
            for request_index in 0..RECEIPTS / CLIENTS {
                let request = issue_request(&series, &format!("dossier-{index}-{request_index}"));
                let mut attempts = 0;
                loop {
                    match receipt.issue_receipt(request.clone()).await {
                        Ok(_) => break,
                        Err(status) if matches!(status.code(), Code::Unavailable | Code::ResourceExhausted) => {
                            attempts += 1;
                            assert!(attempts < 100, "issue kept failing: {status:?}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        Err(status) => panic!("issue failed: {status:?}"),
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("a client task");
    }
    let elapsed = started.elapsed();
    server.stop().await.expect("clean stop");
    elapsed
}

async fn compare(backend: &str, database: impl AsyncFn() -> TestDatabase) {
    let one = run(&database().await, 1).await;
    let batched = run(&database().await, motcua_receipt::store::numbering::DEFAULT_BATCH).await;
    let rate = |elapsed: Duration| RECEIPTS as f64 / elapsed.as_secs_f64();
    println!(
        "{backend:<10} one a transaction: {:>7.0} receipts/s   batched ({}): {:>7.0} receipts/s   ratio {:.2}",
        rate(one),
        motcua_receipt::store::numbering::DEFAULT_BATCH,
        rate(batched),
        one.as_secs_f64() / batched.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    // `cargo test --all-targets` runs this binary too, without `--bench`: the benchmark is for `cargo bench`.
    if !std::env::args().any(|argument| argument == "--bench") {
        println!("numbering benchmark: run it with `make bench`");
        return;
    }
    println!("{CLIENTS} clients, {RECEIPTS} receipts on one series, one service instance");
    compare("sqlite", async || TestDatabase::sqlite()).await;
    if TestDatabase::postgres().await.is_some() {
        compare("postgresql", async || TestDatabase::postgres().await.expect("PostgreSQL answered a moment ago")).await;
    } else {
        println!("postgresql: not reachable ($MOTCUA_TEST_POSTGRES_URL), skipped");
    }
}
