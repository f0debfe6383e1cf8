//! The test harness shared by every service's tests: throw-away SQLite and PostgreSQL databases, a
//! service started on an ephemeral loopback port, property runs of invalid input against it, and a
//! reader of its audit trail.
//!
//! PostgreSQL comes from `MOTCUA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Each test database is created for one test and dropped after it. When no PostgreSQL answers, the
//! PostgreSQL half of a test is skipped with a line on stderr, unless `MOTCUA_REQUIRE_POSTGRES=1`.

use std::{future::Future, path::PathBuf};

use sea_orm::{ConnectionTrait, Database};

use crate::{config::ServiceConfig, server::RunningServer, service::MotcuaService};

pub mod fuzz_regressions;
pub mod invalid_input;
mod otlp;
mod trail;
pub use otlp::{ExportedSpan, HistogramPoint, OtlpReceiver};
pub use trail::TrailReader;

/// The variable naming the PostgreSQL server tests use.
pub const ENV_TEST_POSTGRES_URL: &str = "MOTCUA_TEST_POSTGRES_URL";
/// When `1`, a missing PostgreSQL fails the tests instead of skipping them (CI sets it).
pub const ENV_REQUIRE_POSTGRES: &str = "MOTCUA_REQUIRE_POSTGRES";
const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The URL a service connects to.
    pub url: String,
    /// `sqlite` or `postgres`, for test messages.
    pub backend: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let folder = std::env::temp_dir().join(format!("motcua-test-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/test.db?mode=rwc", folder.display());
        Self { url, backend: "sqlite", cleanup: Cleanup::Folder(folder) }
    }

    /// A new, empty PostgreSQL database, or `None` (with a line on stderr) when no server answers and
    /// PostgreSQL is not required.
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(ENV_TEST_POSTGRES_URL).unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned());
        let required = std::env::var(ENV_REQUIRE_POSTGRES).is_ok_and(|value| value == "1");
        let admin = match Database::connect(admin_url.as_str()).await {
            Ok(admin) => admin,
            Err(error) if !required => {
                eprintln!(
                    "PostgreSQL at {admin_url} is not reachable ({error}); skipping the PostgreSQL half of this test"
                );
                return None;
            }
            Err(error) => panic!("{ENV_REQUIRE_POSTGRES}=1 but PostgreSQL at {admin_url} is not reachable: {error}"),
        };
        let name = format!("motcua_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        let url = replace_database(&admin_url, &name);
        Some(Self { url, backend: "postgres", cleanup: Cleanup::Postgres { admin_url, name } })
    }

    /// SQLite always, and PostgreSQL when it answers: every storage test runs on both.
    pub async fn all() -> Vec<Self> {
        let mut databases = vec![Self::sqlite()];
        databases.extend(Self::postgres().await);
        databases
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own
                // with its own runtime drops the database.
                let dropper = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    runtime.block_on(async {
                        let admin = Database::connect(admin_url.as_str()).await.ok()?;
                        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
                    })
                });
                let _ = dropper.join();
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let base = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Starts service `S` on `database` at an ephemeral loopback port, as the binary would.
pub async fn start_service<S: MotcuaService>(database: &TestDatabase) -> RunningServer {
    start_service_with::<S>(ServiceConfig::for_local(S::KIND, database.url.clone())).await
}

/// `message` as a request from `identity` in the development mode, which names the caller in metadata.
pub fn as_identity<T>(identity: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(crate::identity::IDENTITY_HEADER, identity.parse().expect("an identity is ASCII"));
    request
}

/// Starts service `S` with an explicit configuration.
pub async fn start_service_with<S: MotcuaService>(config: ServiceConfig) -> RunningServer {
    crate::service::start::<S>(&config, std::future::pending())
        .await
        .unwrap_or_else(|error| panic!("{} failed to start: {error:#}", S::KIND.name()))
}

/// Runs `test` once per available database (SQLite, and PostgreSQL when it answers), naming the
/// backend in the panic message of a failure.
pub async fn on_every_database<F, Fut>(test: F)
where
    F: Fn(TestDatabase) -> Fut,
    Fut: Future<Output = ()>,
{
    for database in TestDatabase::all().await {
        eprintln!("running on {}", database.backend);
        test(database).await;
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn test_database_url_replaces_only_the_database() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(replace_database("postgres://u@h/db?sslmode=disable", "t2"), "postgres://u@h/t2?sslmode=disable");
    }
}
