//! `motcua bench`: a closed-loop load generator against running services on loopback (`motcua up`,
//! plaintext, the caller named by the development-mode identity header). For each scenario and each
//! concurrency it waits until the services have finished the background work of the run before
//! (jobs, reporting's feeds), warms up, measures, and measures the floors beside it; then it prints a
//! table and, with `--json`, writes the figures for docs/benchmarks.md. Bounded in time and count.

mod floors;
mod load;
mod pipeline;
mod report;
mod scenarios;

use std::{
    path::PathBuf,
    sync::{Arc, atomic::AtomicBool},
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::{Args, ValueEnum};
use motcua_proto::motcua::{jobs::v1 as jobs, reporting::v1 as reporting};

use self::{
    load::Phases,
    report::{Figure, PipelineTiming, Run},
    scenarios::{Clients, Setup},
};

/// What `motcua bench` is told.
#[derive(Args)]
pub struct BenchArgs {
    /// The host the services run on, each on its default port.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The scenarios, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "create-dossier,issue-receipt,sign,report-query")]
    scenario: Vec<Scenario>,
    /// Calls in flight: one level or a comma-separated list (1,16,64,256).
    #[arg(long, value_delimiter = ',', default_value = "16")]
    concurrency: Vec<usize>,
    /// Calls made before measuring, not recorded (500ms, 1s, 2m).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// The measured phase's length at most.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// The measured phase's calls at most (for `pipeline`, dossiers).
    #[arg(long)]
    count: Option<u64>,
    /// How long each floor is measured.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    floor_duration: Duration,
    /// A PostgreSQL URL for the plain-insert floor of `create-dossier` (a throw-away table is made
    /// and dropped); without it that floor is not measured.
    #[arg(long)]
    postgres_floor: Option<String>,
    /// How long the services may take to finish a run's background work before the next run, and
    /// reporting to count the pipeline's dossiers.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    settle_timeout: Duration,
    /// A name for the run in the JSON (`sqlite`, `postgres`).
    #[arg(long, default_value = "")]
    label: String,
    /// Writes the figures as JSON into this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What is measured.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// intake.CreateDossier.
    CreateDossier,
    /// receipt.IssueReceipt, in one series.
    IssueReceipt,
    /// signing.Sign of a digest.
    Sign,
    /// The whole path of a dossier, until reporting has counted it.
    Pipeline,
    /// reporting.GetSummary of this year, every branch.
    ReportQuery,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Self::CreateDossier => "create-dossier",
            Self::IssueReceipt => "issue-receipt",
            Self::Sign => "sign",
            Self::Pipeline => "pipeline",
            Self::ReportQuery => "report-query",
        }
    }

    /// The service whose port answers the scenario's calls (its empty-RPC floor's port), intake 0 ...
    /// reporting 3.
    fn service_index(self) -> usize {
        match self {
            Self::CreateDossier | Self::Pipeline => 0,
            Self::Sign => 1,
            Self::IssueReceipt => 2,
            Self::ReportQuery => 3,
        }
    }
}

/// Runs every scenario at every concurrency against the services on `args.host`.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let clients = Clients::connect(&args.host)?;
    let setup = Arc::new(Setup::prepare(&args.host, &clients).await?);
    let signatures_floor = if args.scenario.contains(&Scenario::Sign) {
        Some(floors::ecdsa_signatures(args.floor_duration).await?)
    } else {
        None
    };
    let mut figures = Vec::new();
    for &scenario in &args.scenario {
        for &concurrency in &args.concurrency {
            let label = format!("{} ×{concurrency}", scenario.name());
            let settled_after = settle(&clients, args.settle_timeout).await?;
            let pool = Clients::pool(&args.host, concurrency)?;
            let phases = Phases { warmup: args.warmup, duration: args.duration, count: args.count };
            let mut figure = if scenario == Scenario::Pipeline {
                run_pipeline(&label, &clients, pool.clone(), setup.clone(), concurrency, phases, &args).await?
            } else {
                let call = match scenario {
                    Scenario::CreateDossier => scenarios::create_dossier(pool.clone(), setup.clone()),
                    Scenario::IssueReceipt => scenarios::issue_receipt(pool.clone(), setup.clone()),
                    Scenario::Sign => scenarios::sign(pool.clone()),
                    Scenario::ReportQuery => scenarios::report_query(pool.clone(), setup.clone()),
                    Scenario::Pipeline => unreachable!("the pipeline is run above"),
                };
                let measured = load::run(&label, call, concurrency, phases).await;
                Figure::new(scenario.name(), concurrency, &measured, 0.0)
            };
            figure.settled_after_s = settled_after.as_secs_f64();
            let service = scenario.service_index();
            figure.against(floors::empty_rpc(pool, service, concurrency, args.floor_duration).await);
            if scenario == Scenario::CreateDossier
                && let Some(url) = &args.postgres_floor
            {
                figure.against(floors::postgres_insert(url, concurrency, args.floor_duration).await?);
            }
            if scenario == Scenario::Sign
                && let Some(floor) = &signatures_floor
            {
                figure.against(floor.clone());
            }
            eprintln!(
                "{label}: {:.1}/s, p99 {:.2} ms, {} errors",
                figure.throughput,
                figure.latency_ms.p99,
                figure.errors.values().sum::<u64>()
            );
            figures.push(figure);
        }
    }
    report::print_table(&figures);
    if let Some(path) = &args.json {
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        report::write_json(&Run { label: args.label.clone(), command, figures }, path)?;
    }
    Ok(())
}

/// The pipeline at one concurrency: a warm-up, the services settled, then the measured dossiers and
/// the wait until reporting has counted them, with reporting's lag sampled meanwhile.
async fn run_pipeline(
    label: &str,
    clients: &Clients,
    pool: Arc<Vec<Clients>>,
    setup: Arc<Setup>,
    concurrency: usize,
    phases: Phases,
    args: &BenchArgs,
) -> anyhow::Result<Figure> {
    if !phases.warmup.is_zero() {
        let warmup = Phases { warmup: Duration::ZERO, duration: phases.warmup, count: None };
        load::run(&format!("{label} warm-up"), pipeline::call(pool.clone(), setup.clone()), concurrency, warmup).await;
        settle(clients, args.settle_timeout).await?;
    }
    let before = pipeline::counted(clients, &setup).await?;
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(pipeline::sample_lag(clients.clone(), stop_sampling.clone()));
    let started = Instant::now();
    let measured_phases = Phases { warmup: Duration::ZERO, ..phases };
    let measured = load::run(label, pipeline::call(pool, setup.clone()), concurrency, measured_phases).await;
    let paths = measured.histogram.len();
    let counted = pipeline::wait_until_counted(clients, &setup, before, paths, args.settle_timeout).await;
    stop_sampling.store(true, std::sync::atomic::Ordering::Relaxed);
    let lag = sampler.await.unwrap_or_default();
    let counted_after = counted?.saturating_duration_since(started);
    let mut figure = Figure::new(Scenario::Pipeline.name(), concurrency, &measured, 0.0);
    figure.seconds = counted_after.as_secs_f64();
    figure.throughput = paths as f64 / figure.seconds.max(1e-9);
    figure.pipeline = Some(PipelineTiming {
        path_throughput: measured.throughput(),
        counted_after_s: counted_after.as_secs_f64(),
        max_lag_events: lag.events,
        max_lag_seconds: lag.seconds,
    });
    Ok(figure)
}

/// Waits until no service has a job pending or running and reporting has applied every event its
/// feeds announced, so that one run's background work does not load the next; how long it took.
async fn settle(clients: &Clients, timeout: Duration) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let mut busy = Vec::new();
        for (index, job_client) in clients.jobs.iter().enumerate() {
            for state in [jobs::JobState::Pending, jobs::JobState::Running] {
                let request = jobs::ListJobsRequest { page_size: 1, state: state as i32, ..Default::default() };
                let page = job_client.clone().list_jobs(request).await.context("JobService.ListJobs")?;
                if !page.into_inner().jobs.is_empty() {
                    busy.push(format!("{state:?} jobs on port {}", scenarios::PORTS[index]));
                }
            }
        }
        let status = clients.reporting.clone().get_ingestion_status(reporting::GetIngestionStatusRequest {}).await;
        for feed in status.context("reporting: GetIngestionStatus")?.into_inner().feeds {
            if feed.lag_events > 0 {
                busy.push(format!("reporting {} events behind on {:?}", feed.lag_events, feed.feed()));
            }
        }
        if busy.is_empty() {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < timeout, "the services were still busy after {timeout:?}: {busy:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `500ms`, `10s`, `2m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) =
        text.split_at(text.find(|character: char| character.is_ascii_alphabetic()).unwrap_or(text.len()));
    let value: f64 =
        number.trim().parse().map_err(|_| format!("{text:?} is not a duration such as 500ms, 10s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1_000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: the unit is ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("{text:?}: {error}"))
}
