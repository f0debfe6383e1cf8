//! The floors each figure is read against, measured in the same run: the empty RPC through the same
//! server stack (`grpc.health.v1.Health/Check` on the service's own port), a plain PostgreSQL insert
//! of a row shaped like intake's dossier row into a throw-away table, and raw ECDSA P-256 signatures
//! on every core. What a service does beyond its floor is what it could save.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair},
};
use sqlx::{AssertSqlSafe, postgres::PgPoolOptions};
use tonic::Status;
use tonic_health::pb::HealthCheckRequest;

use super::{
    load::{self, Call, Phases},
    report::Floor,
    scenarios::Clients,
};

/// The PostgreSQL pool of the insert floor has at most this many connections: what pgbench was run
/// with for issue 15, and what a server of 100 connections has left beside the four services' pools.
const MAX_POSTGRES_CONNECTIONS: u32 = 32;
/// A connection that cannot be had within this long is a failed insert, not a stalled floor.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// `grpc.health.v1.Health/Check` on the service at `service_index` (intake 0 ... reporting 3) from
/// `concurrency` workers.
pub async fn empty_rpc(pool: Arc<Vec<Clients>>, service_index: usize, concurrency: usize, duration: Duration) -> Floor {
    let call: Call = Arc::new(move |worker| {
        let mut health = pool[worker % pool.len()].health[service_index].clone();
        Box::pin(async move { health.check(HealthCheckRequest { service: String::new() }).await.map(drop) })
    });
    let phases = Phases { warmup: Duration::from_millis(200), duration, count: None };
    let measured = load::run("floor: empty RPC", call, concurrency, phases).await;
    Floor::measured("empty RPC (grpc.health.v1.Health/Check), same port", &measured)
}

/// Plain single-row inserts, autocommitted, into a throw-away table with the dossier row's columns
/// and indexes, from `concurrency` clients; the table is dropped afterwards.
pub async fn postgres_insert(url: &str, concurrency: usize, duration: Duration) -> anyhow::Result<Floor> {
    let connections = u32::try_from(concurrency).unwrap_or(u32::MAX).clamp(1, MAX_POSTGRES_CONNECTIONS);
    let database = PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .connect(url)
        .await
        .with_context(|| format!("connecting to PostgreSQL for the insert floor ({url})"))?;
    let table = format!("motcua_bench_floor_{}", std::process::id());
    // The table's name is this tool's own (the process id), not input.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS {table};
                 CREATE TABLE {table} (
                   id BIGSERIAL PRIMARY KEY, dossier_code VARCHAR(80) NOT NULL UNIQUE,
                   branch_code VARCHAR(20) NOT NULL, agency_code VARCHAR(40) NOT NULL,
                   procedure_code VARCHAR(40) NOT NULL, status SMALLINT NOT NULL, channel SMALLINT NOT NULL,
                   level SMALLINT NOT NULL, applicant_key_hash VARCHAR(64) NOT NULL, received_day VARCHAR(10),
                   appointment_time TIMESTAMPTZ, is_open BOOLEAN NOT NULL, revision INTEGER NOT NULL,
                   body TEXT NOT NULL, create_time TIMESTAMPTZ NOT NULL, update_time TIMESTAMPTZ NOT NULL,
                   submitter_identity VARCHAR(100) NOT NULL DEFAULT '');
                 CREATE INDEX ON {table} (branch_code, id); CREATE INDEX ON {table} (procedure_code, id);
                 CREATE INDEX ON {table} (status, id); CREATE INDEX ON {table} (applicant_key_hash, id);
                 CREATE INDEX ON {table} (received_day, id); CREATE INDEX ON {table} (is_open, appointment_time);
                 CREATE INDEX ON {table} (submitter_identity, id);"
    )))
    .execute(&database)
    .await
    .context("creating the floor's throw-away table")?;
    // A dossier's stored body is its JSON, about this long.
    let body = Arc::new("x".repeat(1_500));
    let sql: Arc<str> = format!(
        "INSERT INTO {table} (dossier_code, branch_code, agency_code, procedure_code, status, channel, level,
           applicant_key_hash, received_day, appointment_time, is_open, revision, body, create_time,
           update_time, submitter_identity)
         VALUES ($1, 'CN01', 'so-tu-phap', '1.004222', 1, 1, 2, $2, '2026-12-08', now(), true, 1, $3, now(), now(),
           'dev/bench')"
    )
    .into();
    let pool = database.clone();
    let call: Call = Arc::new(move |_worker| {
        let (pool, sql, body) = (pool.clone(), sql.clone(), body.clone());
        Box::pin(async move {
            let code = uuid::Uuid::new_v4().simple().to_string();
            sqlx::query(AssertSqlSafe(sql))
                .bind(&code)
                .bind(&code)
                .bind(body.as_str())
                .execute(&pool)
                .await
                .map(drop)
                .map_err(|error| Status::internal(error.to_string()))
        })
    });
    let phases = Phases { warmup: Duration::from_millis(200), duration, count: None };
    let measured = load::run("floor: PostgreSQL insert", call, concurrency, phases).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&database)
        .await
        .context("dropping the floor's table")?;
    database.close().await;
    Ok(Floor::measured(
        &format!("plain PostgreSQL insert of a dossier-shaped row, {connections} connections"),
        &measured,
    ))
}

/// ECDSA P-256 signatures a second over SHA-256 of a short message, one thread per core, with the
/// library signing uses (`ring`).
pub async fn ecdsa_signatures(duration: Duration) -> anyhow::Result<Floor> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &random)
        .map_err(|_| anyhow::anyhow!("generating the floor's P-256 key"))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &random)
        .map_err(|_| anyhow::anyhow!("reading the floor's P-256 key"))?;
    let total = tokio::task::spawn_blocking(move || {
        let ending_at = Instant::now() + duration;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let (key, random) = (&key, &random);
                    scope.spawn(move || {
                        let mut signed = 0u64;
                        while Instant::now() < ending_at {
                            let message = format!("motcua bench {thread} {signed}");
                            if key.sign(random, message.as_bytes()).is_ok() {
                                signed += 1;
                            }
                        }
                        signed
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap_or(0)).sum::<u64>()
        })
    })
    .await
    .context("the signing threads")?;
    Ok(Floor {
        name: format!("raw ECDSA P-256 signatures (ring, as signing), {threads} threads"),
        throughput: total as f64 / duration.as_secs_f64().max(1e-9),
        p99_ms: None,
        errors: 0,
    })
}
