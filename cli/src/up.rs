//! `motcua up`: the four services in one process on the embedded default (one SQLite file each), for a
//! laptop and for the end-to-end demo; with an open receipt series of each kind for every branch, so a
//! dossier's slip and fee receipt are issued on a fresh machine.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use motcua_chassis::{
    MotcuaService, ServiceConfig, ServiceKind, config, server::RunningServer, service, signal, telemetry,
};
use tokio::sync::watch;

/// Starts the four services, prints where each listens, and stops them all on the first signal. With
/// `database_url` (`{service}` standing for each service's name) they run on PostgreSQL instead.
pub async fn run(host: &str, data_dir: &str, database_url: Option<&str>) -> anyhow::Result<()> {
    let host: IpAddr = host.parse().with_context(|| format!("--host {host:?} is not an IP address"))?;
    let telemetry = telemetry::init(&telemetry::TelemetrySettings::from_env("motcua")?)?;
    let (stop, stopped) = watch::channel(false);
    // Listening for SIGTERM and Ctrl-C starts now, so a signal during start-up stops the suite
    // gracefully instead of killing the process.
    let signalled = tokio::spawn(signal::shutdown_requested());

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
            config.database_url = match database_url {
                Some(template) => template.replace("{service}", kind.name()),
                None => config::default_sqlite_url(data_dir, kind),
            };
            // The peers are the other three services of this process, on the same host.
            for (variable, peer) in [
                (motcua_intake::settings::ENV_INTAKE_SIGNING_URL, ServiceKind::Signing),
                (motcua_intake::settings::ENV_INTAKE_RECEIPT_URL, ServiceKind::Receipt),
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
        open_series(host).await.context("opening the branches' receipt series")?;
        println!("motcua is up: try `grpcurl -plaintext {host}:50051 list`, or `motcua procedures --query \"khai sinh\"`. Ctrl-C stops.");

        // The listening task ends only when a signal came; if it failed, stopping now is right too.
        let _ = signalled.await;
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

/// Creates, for every branch intake knows, an open series of fee receipts and one of acknowledgement
/// slips for this year where the branch has none, so that intake's follow-ups find one. Idempotent: a
/// second start finds them (and the request ids are derived from branch, year and kind). A series
/// created by anyone else counts as well.
async fn open_series(host: IpAddr) -> anyhow::Result<()> {
    use chrono::Datelike;
    use motcua_proto::motcua::{
        intake::v1::{ListBranchesRequest, intake_service_client::IntakeServiceClient},
        receipt::v1::{
            CreateSeriesRequest, ListSeriesRequest, ReceiptKind, SeriesState,
            receipt_service_client::ReceiptServiceClient,
        },
    };
    let url = |kind: ServiceKind| format!("http://{}", SocketAddr::new(host, kind.default_port()));
    let mut intake = IntakeServiceClient::new(motcua_chassis::peer::connect_lazy(&url(ServiceKind::Intake))?);
    let mut receipt = ReceiptServiceClient::new(motcua_chassis::peer::connect_lazy(&url(ServiceKind::Receipt))?);
    let year = motcua_chassis::timestamps::local_date(motcua_chassis::clock::Clock::system().now()).year();
    let mut page_token = String::new();
    let mut created = 0;
    loop {
        let request = ListBranchesRequest { page_size: 1000, page_token };
        let page = intake.list_branches(request).await.context("intake.ListBranches")?.into_inner();
        for branch in &page.branches {
            // Template symbols as Circular 78/2021 writes them; the series symbol names the year.
            for (kind, template_symbol, tag) in
                [(ReceiptKind::FeeReceipt, "01BLP0-001", "bl"), (ReceiptKind::AcknowledgementSlip, "01/TN", "tn")]
            {
                let existing = ListSeriesRequest {
                    page_size: 1,
                    branch_code: branch.branch_code.clone(),
                    year,
                    kind: kind as i32,
                    state: SeriesState::Open as i32,
                    ..Default::default()
                };
                if !receipt.list_series(existing).await.context("receipt.ListSeries")?.into_inner().series.is_empty() {
                    continue;
                }
                let series_id = format!("{}-{year}-{tag}", branch.branch_code.to_lowercase());
                let create = CreateSeriesRequest {
                    request_id: format!("motcua-up-{series_id}"),
                    series_id,
                    branch_code: branch.branch_code.clone(),
                    year,
                    kind: kind as i32,
                    template_symbol: template_symbol.to_owned(),
                    series_symbol: format!("{}-{}U", branch.branch_code, year % 100),
                };
                receipt.create_series(create).await.context("receipt.CreateSeries")?;
                created += 1;
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    println!("receipt series: {created} opened for {year}, one of each kind per branch");
    Ok(())
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = stopped.wait_for(|stop| *stop).await;
}
