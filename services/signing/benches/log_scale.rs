//! Benchmark of the transparency log at scale: a log of N leaves (default 10,000,000; override with
//! `MOTCUA_LOG_SCALE_LEAVES`) built on a throw-away PostgreSQL database ($MOTCUA_TEST_POSTGRES_URL)
//! the way the service grows it, through the integration path: leaves bulk-inserted by the database
//! in large multi-row inserts, then integrated into the stored tiles in batches, a checkpoint signed
//! after each. At 10,000 leaves and at N it measures, with the service's checkpointer and auditor
//! running: the time from a leaf's commit to a checkpoint covering it, the median latency of an
//! inclusion proof, a consistency proof, a hash tile and an entry bundle (200 of each), and this
//! process's RSS. Prints a table, and writes JSON to `MOTCUA_LOG_SCALE_JSON` (or the first argument
//! that is not a flag) when given. `make bench` runs it; without `--bench` it only says so.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use motcua_chassis::{clock::Clock, db, testing::TestDatabase};
use motcua_signing::{
    domain::tiles::TilePath, jobs, keys::KeyEncryption, migration::Migrator, store, transparency::TransparencyLog,
};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Leaves the database generates per INSERT … SELECT.
const INSERT_ROWS: u64 = 500_000;
/// Leaves per integration while building: the service's own batch.
const BUILD_BATCH: u64 = motcua_signing::transparency::INTEGRATION_BATCH;
const SAMPLES: usize = 200;
const CHECKPOINT_SAMPLES: usize = 20;

/// A small xorshift: the sampled indexes need only spread, not secrecy.
struct Spread(u64);

impl Spread {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// Leaves `[from, to)` made by the database, as long as a real signature leaf (about 270 bytes).
async fn insert_leaves(db: &DatabaseConnection, from: u64, to: u64) {
    let mut start = from;
    while start < to {
        let end = (start + INSERT_ROWS).min(to);
        let sql = format!(
            "INSERT INTO log_leaves (leaf_index, leaf_data, leaf_hash) \
             SELECT i, d, sha256('\\x00'::bytea || d) FROM ( \
               SELECT i, convert_to('motcua-signing-log/v1' || E'\\n' || 'signature' || E'\\n' || \
                 encode(sha256(int8send(i)), 'hex') || E'\\n' || encode(sha256(int8send(-i)), 'hex') || E'\\n' || \
                 encode(sha256(int8send(i + 1)), 'hex') || E'\\n' || '2026-12-10T08:00:00.000000Z' || E'\\n', 'UTF8') AS d \
               FROM generate_series({start}::bigint, {}::bigint) AS i) AS leaves",
            end - 1
        );
        db.execute_unprepared(&sql).await.expect("leaves inserted");
        db.execute_unprepared(&format!("UPDATE log_head SET tree_size = {end} WHERE id = 1"))
            .await
            .expect("head moved");
        start = end;
    }
}

/// Grows the log to `size` leaves through integration; how long it took.
async fn grow(db: &DatabaseConnection, log: &TransparencyLog, size: u64) -> Duration {
    let started = Instant::now();
    let mut current = store::log::tree_size(db).await.expect("head") as u64;
    while current < size {
        let step_end = (current + 4 * INSERT_ROWS).min(size);
        insert_leaves(db, current, step_end).await;
        loop {
            let integration = log.integrate(BUILD_BATCH).await.expect("integrated");
            if !integration.more {
                break;
            }
        }
        current = step_end;
        eprintln!("  {current} leaves, {:.0} s", started.elapsed().as_secs_f64());
    }
    started.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn max(samples: &[Duration]) -> Duration {
    samples.iter().max().copied().unwrap_or_default()
}

/// This process's resident memory, and its peak, in MB (/proc/self/status).
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Figures {
    size: u64,
    checkpoint_median: Duration,
    checkpoint_max: Duration,
    inclusion: Duration,
    consistency: Duration,
    hash_tile: Duration,
    entry_bundle: Duration,
    rss_mb: f64,
    peak_rss_mb: f64,
}

/// Appends one leaf as a signing act does (its own transaction, then a wake-up) and waits for a
/// checkpoint covering it.
async fn commit_to_checkpoint(db: &DatabaseConnection, log: &TransparencyLog, number: usize) -> Duration {
    let transaction = db::begin_write(db).await.expect("a transaction");
    let leaf = format!("motcua-signing-log/v1\nsignature\nbench {number}\n");
    let index = store::log::append_leaf(&transaction, leaf.into_bytes()).await.expect("appended");
    transaction.commit().await.expect("committed");
    let committed = Instant::now();
    log.wake();
    loop {
        let latest = store::log::latest_checkpoint(db).await.expect("checkpoint read");
        if latest.is_some_and(|latest| latest.tree_size > index) {
            return committed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn measure(db: &DatabaseConnection, log: &TransparencyLog, spread: &mut Spread) -> Figures {
    let mut checkpoints = Vec::new();
    for number in 0..CHECKPOINT_SAMPLES {
        // At every phase of the checkpointer's 300 ms loop.
        tokio::time::sleep(Duration::from_millis(spread.below(300))).await;
        checkpoints.push(commit_to_checkpoint(db, log, number).await);
    }
    let size = store::log::latest_checkpoint(db).await.expect("read").expect("a checkpoint").tree_size as u64;
    let timed = |durations: &mut Vec<Duration>, started: Instant| durations.push(started.elapsed());
    let (mut inclusion, mut consistency, mut hash_tiles, mut bundles) = (vec![], vec![], vec![], vec![]);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let proof = log.inclusion_proof(spread.below(size), size).await.expect("inclusion proof");
        timed(&mut inclusion, started);
        assert!(proof.is_some());
        let started = Instant::now();
        let proof = log.consistency_proof(1 + spread.below(size - 1), size).await.expect("consistency proof");
        timed(&mut consistency, started);
        assert!(proof.is_some());
        let tile_index = spread.below(size / 256);
        let path = |level: &str| TilePath::parse(&format!("tile/{level}/{}", tile_path_index(tile_index)));
        let started = Instant::now();
        let tile = log.tile(&path("0").expect("a tile path"), size).await.expect("tile");
        timed(&mut hash_tiles, started);
        assert_eq!(tile.map(|tile| tile.len()), Some(256 * 32));
        let started = Instant::now();
        let bundle = log.tile(&path("entries").expect("a tile path"), size).await.expect("entry bundle");
        timed(&mut bundles, started);
        assert!(bundle.is_some());
    }
    let (rss_mb, peak_rss_mb) = rss_mb();
    Figures {
        size,
        checkpoint_median: median(checkpoints.clone()),
        checkpoint_max: max(&checkpoints),
        inclusion: median(inclusion),
        consistency: median(consistency),
        hash_tile: median(hash_tiles),
        entry_bundle: median(bundles),
        rss_mb,
        peak_rss_mb,
    }
}

/// `1234067` as `x001/x234/067` (C2SP tlog-tiles).
fn tile_path_index(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn json(figures: &Figures) -> String {
    format!(
        "{{\"leaves\": {}, \"commit_to_checkpoint_ms\": {{\"median\": {:.2}, \"max\": {:.2}}}, \
         \"inclusion_proof_ms\": {:.3}, \"consistency_proof_ms\": {:.3}, \"hash_tile_ms\": {:.3}, \
         \"entry_bundle_ms\": {:.3}, \"rss_mb\": {:.1}, \"peak_rss_mb\": {:.1}}}",
        figures.size,
        ms(figures.checkpoint_median),
        ms(figures.checkpoint_max),
        ms(figures.inclusion),
        ms(figures.consistency),
        ms(figures.hash_tile),
        ms(figures.entry_bundle),
        figures.rss_mb,
        figures.peak_rss_mb
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if !arguments.iter().any(|argument| argument == "--bench") {
        println!("log scale benchmark: run it with `make bench`");
        return;
    }
    let leaves: u64 =
        std::env::var("MOTCUA_LOG_SCALE_LEAVES").ok().and_then(|value| value.parse().ok()).unwrap_or(10_000_000);
    let json_path = std::env::var("MOTCUA_LOG_SCALE_JSON")
        .ok()
        .or_else(|| arguments.iter().find(|argument| !argument.starts_with("--")).cloned());
    let Some(database) = TestDatabase::postgres().await else {
        println!("log scale: PostgreSQL not reachable ($MOTCUA_TEST_POSTGRES_URL), skipped");
        return;
    };
    let db = db::connect(&database.url, Some(8)).await.expect("the bench database");
    db::migrate::<Migrator>(&db).await.expect("migrated");
    let log = Arc::new(
        TransparencyLog::open(
            db.clone(),
            "bench.motcua.example/log".to_owned(),
            &KeyEncryption::new("bench"),
            Clock::system(),
        )
        .await
        .expect("the log opens"),
    );
    let mut spread = Spread(0x9E37_79B9_7F4A_7C15);
    let small = 10_000.min(leaves);
    grow(&db, &log, small).await;
    jobs::spawn_checkpointer(&log);
    jobs::spawn_auditor(&log);
    let mut results = vec![measure(&db, &log, &mut spread).await];
    if leaves > small {
        let built = grow(&db, &log, leaves).await;
        println!("built {leaves} leaves through integration in {:.0} s", built.as_secs_f64());
        results.push(measure(&db, &log, &mut spread).await);
    }
    println!(
        "{:>10}  {:>22}  {:>10}  {:>12}  {:>9}  {:>12}  {:>14}",
        "leaves", "commit→checkpoint p50/max", "inclusion", "consistency", "hash tile", "entry bundle", "RSS (peak) MB"
    );
    for figures in &results {
        println!(
            "{:>10}  {:>11.1} / {:>6.1} ms  {:>7.2} ms  {:>9.2} ms  {:>6.2} ms  {:>9.2} ms  {:>7.1} ({:.1})",
            figures.size,
            ms(figures.checkpoint_median),
            ms(figures.checkpoint_max),
            ms(figures.inclusion),
            ms(figures.consistency),
            ms(figures.hash_tile),
            ms(figures.entry_bundle),
            figures.rss_mb,
            figures.peak_rss_mb
        );
    }
    if let Some(path) = json_path {
        let body = format!("[{}]\n", results.iter().map(json).collect::<Vec<_>>().join(",\n "));
        std::fs::write(&path, body).expect("the JSON written");
        println!("written to {path}");
    }
}
