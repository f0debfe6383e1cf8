//! What a service gives the chassis (its kind, migrations and routes), and the one way every service
//! starts: as a binary (`serve` or `migrate`), inside `motcua up`, or in a test.

use std::{future::Future, process::ExitCode};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tonic::service::Routes;

use crate::{
    audit,
    config::{ServiceConfig, ServiceKind},
    db, server, signal, telemetry,
};

/// A motcua service, as the chassis runs it.
pub trait MotcuaService {
    /// Which of the four it is.
    const KIND: ServiceKind;
    /// Its own configuration variables (`MOTCUA_<SERVICE>_*`), declared in its settings module.
    const VARIABLES: &'static [crate::config::Variable];
    /// Its database migrations.
    type Migrator: MigratorTrait;
    /// What each method of its gRPC service is recorded as in the audit trail.
    const AUDIT: audit::Classification;
    /// Further gRPC services its routes serve beside its own (signing's witness), each with what its
    /// methods' calls are recorded as; reflection lists them too.
    const MORE_SERVICES: &'static [(&'static str, audit::Classification)] = &[];

    /// Builds the service's gRPC routes on a migrated database: seeds, caches and clients of peers are
    /// made here.
    fn routes(config: &ServiceConfig, db: DatabaseConnection) -> impl Future<Output = anyhow::Result<Routes>> + Send;
}

/// Opens the service's database, migrates it when configured to, and starts serving in the
/// background. Telemetry is the caller's: the binary installs it once per process.
pub async fn start<S: MotcuaService>(
    config: &ServiceConfig,
    external_shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<server::RunningServer> {
    let name = S::KIND.name();
    let db = db::connect(&config.database_url, config.db_max_connections)
        .await
        .with_context(|| format!("{name}: opening the database"))?;
    if config.migrate_on_start {
        db::migrate::<S::Migrator>(&db).await.with_context(|| format!("{name}: migrating"))?;
    }
    let audit = audit::AuditTrail::new(
        db.clone(),
        config.clock.clone(),
        S::KIND.grpc_service_name(),
        S::KIND.error_domain(),
        S::AUDIT,
    )?;
    let audit = S::MORE_SERVICES
        .iter()
        .try_fold(audit, |audit, (service, classification)| audit.also_of(service, classification))?;
    // Every service shows its jobs, whether or not it has any (its migrations made the table).
    let jobs = crate::jobs::server(db.clone(), config.clock.clone(), S::KIND.error_domain());
    let db_for_chain = db.clone();
    let routes =
        S::routes(config, db).await.with_context(|| format!("{name}: building the service"))?.add_service(jobs);
    // The trail's hash chain grows in the background for as long as the server runs.
    let chainer = audit::chain::Chainer::start(db_for_chain);
    let external_shutdown = async move {
        let _chainer = chainer;
        external_shutdown.await;
    };
    let running = server::start(config, routes, audit, external_shutdown).await?;
    tracing::info!(service = name, addr = %running.local_addr, "serving");
    Ok(running)
}

/// The whole `main` of a service binary: `motcua-<service> [serve]` serves until SIGTERM/SIGINT;
/// `motcua-<service> migrate` applies the migrations and exits (for a Kubernetes Job).
pub fn main<S: MotcuaService>() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_owned());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("motcua-{}: cannot start the async runtime: {error}", S::KIND.name());
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command.as_str() {
            "serve" => serve::<S>().await,
            "migrate" => migrate::<S>().await,
            "-h" | "--help" | "help" => {
                println!(
                    "usage: motcua-{} [serve|migrate]\n  serve    serve gRPC until SIGTERM (default)\n  migrate  apply the database migrations and exit\nconfiguration: MOTCUA_* and OTEL_* environment variables, see docs/operations.md",
                    S::KIND.name()
                );
                Ok(())
            }
            other => Err(anyhow::anyhow!("unknown command {other:?}; expected serve or migrate")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "exiting");
            eprintln!("motcua-{}: {error:#}", S::KIND.name());
            ExitCode::FAILURE
        }
    }
}

async fn serve<S: MotcuaService>() -> anyhow::Result<()> {
    let config = ServiceConfig::from_env(S::KIND, S::VARIABLES)?;
    let telemetry = telemetry::init(&telemetry::TelemetrySettings::from_env(&format!("motcua-{}", S::KIND.name()))?)?;
    let result = match start::<S>(&config, signal::shutdown_requested()).await {
        Ok(running) => running.wait().await,
        Err(error) => Err(error),
    };
    // Last, so that the spans of the drain reach the collector.
    telemetry.shutdown().await;
    result
}

async fn migrate<S: MotcuaService>() -> anyhow::Result<()> {
    let config = ServiceConfig::from_env(S::KIND, S::VARIABLES)?;
    let telemetry = telemetry::init(&telemetry::TelemetrySettings::from_env(&format!("motcua-{}", S::KIND.name()))?)?;
    let db = db::connect(&config.database_url, config.db_max_connections).await?;
    db::migrate::<S::Migrator>(&db).await?;
    tracing::info!(service = S::KIND.name(), "migrations applied");
    telemetry.shutdown().await;
    Ok(())
}
