//! `motcua up`: the four services in one process on the embedded default (one SQLite file each), for a
//! laptop and for the end-to-end demo.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use motcua_chassis::{
    MotcuaService, ServiceConfig, ServiceKind, config, server::RunningServer, service, signal, telemetry,
};
use tokio::sync::watch;

/// Starts the four services, prints where each listens, and stops them all on the first signal.
pub async fn run(host: &str, data_dir: &str) -> anyhow::Result<()> {
    let host: IpAddr = host.parse().with_context(|| format!("--host {host:?} is not an IP address"))?;
    let telemetry = telemetry::init(&telemetry::TelemetrySettings::from_env("motcua")?)?;
    let (stop, stopped) = watch::channel(false);

    let result = async {
        let mut running = Vec::new();
        for kind in ServiceKind::ALL {
            let own = match kind {
                ServiceKind::Intake => motcua_intake::settings::VARIABLES,
                ServiceKind::Signing => motcua_signing::settings::VARIABLES,
                ServiceKind::Receipt => motcua_receipt::settings::VARIABLES,
                ServiceKind::Reporting => motcua_reporting::settings::VARIABLES,
            };
            let mut config = ServiceConfig::from_env(kind, own)?;
            config.listen_addr = SocketAddr::new(host, kind.default_port());
            config.database_url = config::default_sqlite_url(data_dir, kind);
            // The peers are the other three services of this process, on the same host.
            for (variable, peer) in [
                (motcua_intake::settings::ENV_INTAKE_SIGNING_URL, ServiceKind::Signing),
                (motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL, ServiceKind::Signing),
                (motcua_reporting::settings::ENV_REPORTING_INTAKE_URL, ServiceKind::Intake),
                (motcua_reporting::settings::ENV_REPORTING_SIGNING_URL, ServiceKind::Signing),
                (motcua_reporting::settings::ENV_REPORTING_RECEIPT_URL, ServiceKind::Receipt),
            ] {
                if own.iter().any(|own_variable| own_variable.name == variable) {
                    let url = format!("http://{}", SocketAddr::new(host, peer.default_port()));
                    config.service_variables.entry(variable).or_insert(url);
                }
            }
            // `motcua up` is the development tool: without TLS, callers name themselves (loopback only).
            if config.tls.is_none() {
                config.dev_identity = true;
            }
            // No load balancer to drain on a laptop: stop at once unless told otherwise.
            if std::env::var_os(config::ENV_SHUTDOWN_DRAIN_MS).is_none() {
                config.shutdown_drain = std::time::Duration::ZERO;
            }
            let shutdown = wait_for(stopped.clone());
            let server = match kind {
                ServiceKind::Intake => start::<motcua_intake::Intake>(&config, shutdown).await?,
                ServiceKind::Signing => start::<motcua_signing::Signing>(&config, shutdown).await?,
                ServiceKind::Receipt => start::<motcua_receipt::Receipt>(&config, shutdown).await?,
                ServiceKind::Reporting => start::<motcua_reporting::Reporting>(&config, shutdown).await?,
            };
            println!(
                "{:<10} {:<38} grpc://{}  db {}",
                kind.name(),
                kind.grpc_service_name(),
                server.local_addr,
                config.database_url
            );
            running.push(server);
        }
        println!("motcua is up: try `grpcurl -plaintext {host}:50051 list`, or `motcua procedures --query \"khai sinh\"`. Ctrl-C stops.");

        signal::shutdown_requested().await;
        // Every service drains at once, not one after the other.
        let _ = stop.send(true);
        for server in running {
            server.wait().await?;
        }
        anyhow::Ok(())
    }
    .await;
    telemetry.shutdown().await;
    result
}

async fn start<S: MotcuaService>(
    config: &ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    service::start::<S>(config, shutdown).await
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = stopped.wait_for(|stop| *stop).await;
}
