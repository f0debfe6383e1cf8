//! Benchmark of `Sign` throughput: one signing instance in this process on a throw-away PostgreSQL
//! database, 64 concurrent callers signing as the same officer (one series, one log), for 8 s after a
//! 1 s warm-up; prints signatures a second with p50 and p99 latency, and the floor it is measured
//! against in the same run: raw ECDSA P-256 signatures a second (ring, as signing signs) on every core. `make
//! bench` runs it; without `--bench` (as `cargo test --all-targets` runs it) it only says so.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use motcua_chassis::testing::TestDatabase;
use motcua_proto::motcua::signing::v1 as pb;
use motcua_testkit::{
    authorities::BranchDeployment,
    clients::{Signing, signing as client},
    request_id,
    services::start_signing,
};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair},
};
use sha2::{Digest, Sha256};

const CALLERS: usize = 64;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURED: Duration = Duration::from_secs(8);
const FLOOR_TIME: Duration = Duration::from_secs(2);

/// Signs as the CN01 officer until `stop`; the latency of every call that began after `measured_from`.
async fn caller(mut signing: Signing, caller_index: usize, measured_from: Instant, stop: Instant) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut number = 0u64;
    while Instant::now() < stop {
        number += 1;
        let digest = Sha256::digest(format!("caller {caller_index}, document {number}")).to_vec();
        let request = pb::SignRequest {
            request_id: request_id(),
            signer_id: "officer-CN01".to_owned(),
            content: Some(pb::sign_request::Content::DocumentSha256(digest)),
            subject: format!("dossiers/000.00.12.H26-251210-{number:04}"),
            ..Default::default()
        };
        let began = Instant::now();
        if let Err(status) = signing.sign(request).await {
            panic!("Sign failed under load: {status:?}");
        }
        if began >= measured_from && Instant::now() <= stop {
            latencies.push(began.elapsed());
        }
    }
    latencies
}

/// Raw ECDSA P-256 signatures a second over short messages (the SHA-256 hash included, as a CMS's
/// signed attributes are hashed), one signing thread per core.
fn ecdsa_floor() -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &random).expect("a P-256 key");
    let key = Arc::new(
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &random).expect("the key reads back"),
    );
    let threads: Vec<_> = (0..cores)
        .map(|thread| {
            let (key, random) = (key.clone(), random.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut count = 0u64;
                while started.elapsed() < FLOOR_TIME {
                    let _signature = key.sign(&random, format!("{thread} {count}").as_bytes()).expect("ECDSA signs");
                    count += 1;
                }
                count as f64 / started.elapsed().as_secs_f64()
            })
        })
        .collect();
    threads.into_iter().map(|thread| thread.join().expect("a floor thread")).sum()
}

/// The average size of a `signatures` row as PostgreSQL stores it, and the table's whole size on disk
/// (its TOAST, its indexes and the chains it references) divided by its rows.
async fn bytes_per_signature(url: &str) -> (f64, f64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(url).await.expect("the bench database answers");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (SELECT avg(pg_column_size(s.*))::float8 FROM signatures s), \
             (SELECT sum(pg_total_relation_size(c.oid))::float8 FROM pg_class c \
              WHERE c.relname IN ('signatures', 'certificate_chains') AND c.relkind = 'r') \
             / (SELECT greatest(count(*), 1)::float8 FROM signatures)",
        ))
        .await
        .expect("sizes read")
        .expect("one row");
    (row.try_get_by_index(0).unwrap_or_default(), row.try_get_by_index(1).unwrap_or_default())
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|argument| argument == "--bench") {
        println!("sign throughput benchmark: run it with `make bench`");
        return;
    }
    let Some(database) = TestDatabase::postgres().await else {
        println!("sign throughput: PostgreSQL not reachable ($MOTCUA_TEST_POSTGRES_URL), skipped");
        return;
    };
    let server = start_signing(&database).await;
    let mut setup = client(server.local_addr).await;
    BranchDeployment::of("CN01").deploy(&mut setup).await;

    let started = Instant::now();
    let (measured_from, stop) = (started + WARM_UP, started + WARM_UP + MEASURED);
    let tasks: Vec<_> = (0..CALLERS)
        .map(|caller_index| tokio::spawn(caller(setup.clone(), caller_index, measured_from, stop)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a caller task"));
    }
    latencies.sort();
    let rate = latencies.len() as f64 / MEASURED.as_secs_f64();
    server.stop().await.expect("clean stop");
    let (row_bytes, disk_bytes) = bytes_per_signature(&database.url).await;

    let floor = ecdsa_floor();
    println!(
        "Sign on postgresql, {CALLERS} callers, one officer: {rate:>7.0} signatures/s   p50 {:>6.1} ms   p99 {:>6.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    println!("bytes per signature row: {row_bytes:.0} (row), {disk_bytes:.0} (tables with TOAST and indexes, on disk)");
    println!("raw ECDSA P-256 floor, every core:            {floor:>7.0} signatures/s   ratio {:.3}", rate / floor);
}
