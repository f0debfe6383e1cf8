//! Telemetry through a real collector: the four services, each on a PostgreSQL database reached with a
//! URL that carries a password, export their spans and RPC metrics to `rotel` (the OpenTelemetry
//! collector from PyPI), which logs everything it receives in detail and forwards it to a receiver in
//! this test. A dossier goes the demo's way (catalogue, filing, processing, a result sent to signing),
//! then the services sit idle. Neither the password, nor the key secrets, nor the test citizen's data
//! is anywhere in what the collector received; each of the demo's traces has at most 30 spans, all
//! from motcua's code or a database statement, with one span per statement; the idle services export
//! at most a handful of spans a minute; and the call durations arrive as `rpc.server.duration` and
//! `rpc.client.duration`. The counts are printed. One test in this file: telemetry is global to the
//! process.
//!
//! `rotel` must be installed (`pip install rotel`, as `.ci/run` does); the test fails, not skips,
//! without it. `MOTCUA_TEST_ROTEL` may name its binary.

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::LogFormat,
    server::RunningServer,
    telemetry::{self, TelemetrySettings},
    testing::{ExportedSpan, OtlpReceiver, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, Citizen, CopyKind, applicant::Kind},
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
};
use sea_orm::{ConnectionTrait, Database};

const SERVER: i32 = 2;
/// The most spans an RPC may bring, counting with the demo's calls the RPCs their jobs make (a filing
/// brings its slip's IssueReceipt and Sign into its trace).
const SPANS_PER_RPC: usize = 30;
/// How long the services are left idle, and the most spans a minute they may export meanwhile.
const IDLE: Duration = Duration::from_secs(20);
const IDLE_SPANS_PER_MINUTE: f64 = 6.0;
/// The test citizen: personal data that must reach no span.
const IDENTITY_NUMBER: &str = "001099012345";
const FULL_NAME: &str = "Lê Thị Hoa";
/// Spans of the transport's internals that once flooded the export.
const TRANSPORT_SPANS: [&str; 6] = [
    "try_reclaim_frame",
    "pop_frame",
    "FramedWrite::flush",
    "FramedWrite::buffer",
    "updating stream flow",
    "poll_ready",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_real_collector_no_secret_leaves_and_the_demo_exports_few_spans() {
    let rotel_binary = rotel_binary();
    let Some(postgres) = PostgresRole::create().await else { return };
    let receiver = OtlpReceiver::start().await;
    let mut collector = Rotel::start(&rotel_binary, &receiver.endpoint());

    let guard = telemetry::init(&TelemetrySettings {
        otlp_endpoint: Some(collector.endpoint()),
        log_format: LogFormat::Json,
        log_filter: "warn".to_owned(),
        ..TelemetrySettings::new("motcua")
    })
    .expect("telemetry installs");
    let servers = start_four(&postgres).await;
    let intake_url = format!("http://{}", servers[0].local_addr);

    let demo_start = now_nanos();
    let calls = demo(&intake_url).await;
    // Reporting applies what the demo caused before the quiet starts.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let idle_start = now_nanos();
    tokio::time::sleep(IDLE).await;
    let idle_end = now_nanos();

    // Reporting first: its feed streams would hold the others' shutdown for their grace period.
    for server in servers.into_iter().rev() {
        server.stop().await.expect("a clean stop");
    }
    guard.shutdown().await;
    let spans = receiver
        .wait_for(Duration::from_secs(15), |spans| {
            spans.iter().any(|span| span.span.name == "motcua.intake.v1.IntakeService/ResolveDossier")
        })
        .await;
    // The metrics come last, exported when the meter provider stops.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut histograms = receiver.histograms().await;
    while histograms.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        histograms = receiver.histograms().await;
    }
    let collector_log = collector.stop();
    // rotel's own complaints (a forward the receiver refused), which would explain an empty receiver.
    for line in collector_log.lines().filter(|line| line.contains("Exporting failed")) {
        println!("rotel: {line}");
    }

    // What left the services, as the collector logged it and as it forwarded it.
    assert!(
        collector_log.contains("motcua.intake.v1.IntakeService/CreateDossier"),
        "the collector's debug log shows the spans it received (so the searches below search something)"
    );
    assert!(
        postgres.databases.iter().any(|database| collector_log.contains(database.as_str())),
        "the collector saw the databases' names, next to which a leaked URL would show"
    );
    let mut received: Vec<String> = spans.iter().flat_map(ExportedSpan::all_text).collect();
    received.extend(
        histograms.iter().flat_map(|point| point.attributes.iter().map(|(key, value)| format!("{key}={value}"))),
    );
    received.push(collector_log);
    for (what, secret) in [
        ("the database password", postgres.password.as_str()),
        ("signing's key-encryption secret", KEY_ENCRYPTION_SECRET),
        ("intake's applicant index key", APPLICANT_INDEX_KEY),
        ("the citizen's identity number", IDENTITY_NUMBER),
        ("the citizen's name", FULL_NAME),
    ] {
        assert!(!received.iter().any(|text| text.contains(secret)), "{what} reached the collector");
    }

    let demo_spans: Vec<&ExportedSpan> =
        spans.iter().filter(|span| span.span.start_time_unix_nano < idle_start).collect();
    let idle_spans: Vec<&ExportedSpan> =
        spans.iter().filter(|span| (idle_start..idle_end).contains(&span.span.start_time_unix_nano)).collect();
    let mut by_name = BTreeMap::<&str, usize>::new();
    for span in &spans {
        *by_name.entry(span.span.name.as_str()).or_default() += 1;
    }
    let traces = traces_of_the_demos_calls(&spans, demo_start);
    let idle_per_minute = idle_spans.len() as f64 * 60.0 / IDLE.as_secs_f64();
    println!(
        "collector received {} spans: {} from the demo's {calls} calls ({:.1} a call), {} in {}s idle ({idle_per_minute:.1} a minute)",
        spans.len(),
        demo_spans.len(),
        demo_spans.len() as f64 / calls as f64,
        idle_spans.len(),
        IDLE.as_secs()
    );
    println!("spans and RPCs per trace of the demo's calls: {:?}", traces.values().collect::<Vec<_>>());
    println!("spans by name: {by_name:#?}");
    println!("idle spans: {:?}", idle_spans.iter().map(|span| &span.span.name).collect::<Vec<_>>());
    println!("histogram points received: {}", histograms.len());

    for (root, (count, rpcs)) in &traces {
        assert!(
            *count <= SPANS_PER_RPC * rpcs,
            "the trace of {root} has {count} spans for {rpcs} RPCs, more than {SPANS_PER_RPC} an RPC"
        );
    }
    // Through the collector too, the filing is one trace with what its slip job caused in receipt
    // and signing.
    let filing = spans
        .iter()
        .find(|span| span.span.kind == SERVER && span.span.name == "motcua.intake.v1.IntakeService/CreateDossier")
        .expect("the filing's server span");
    for caused in ["motcua.receipt.v1.ReceiptService/IssueReceipt", "motcua.signing.v1.SigningService/Sign"] {
        assert!(
            spans.iter().any(|span| span.span.kind == SERVER
                && span.span.name == caused
                && span.span.trace_id == filing.span.trace_id),
            "{caused} is in the trace of the filing"
        );
    }
    assert!(
        spans.iter().any(|span| span.span.name == "reporting.apply_feed"
            && span.span.links.iter().any(|link| link.trace_id == filing.span.trace_id)),
        "reporting's counting of the filing links to the filing's trace"
    );
    let rpcs = demo_spans.iter().filter(|span| span.span.kind == SERVER).count();
    assert!(demo_spans.len() <= SPANS_PER_RPC * rpcs, "{} spans for {rpcs} RPCs", demo_spans.len());
    assert!(idle_per_minute <= IDLE_SPANS_PER_MINUTE, "idle services exported {idle_per_minute:.1} spans a minute");
    for span in &spans {
        let name = span.span.name.as_str();
        assert!(!TRANSPORT_SPANS.contains(&name), "a transport span was exported: {name}");
        assert!(
            span.attribute("code.file.path").is_none() && span.attribute("code.filepath").is_none(),
            "{name} carries a source path"
        );
        let ours = span.attribute("rpc.system").is_some()
            || span.attribute("db.system").is_some()
            || ["intake.", "signing.", "receipt.", "reporting.", "job"].iter().any(|prefix| name.starts_with(prefix));
        assert!(ours, "span {name} is neither an RPC, a database statement nor one of motcua's jobs");
        if name.starts_with("sea_orm.") {
            assert_eq!(span.attribute("db.system").as_deref(), Some("postgresql"), "{name}");
            assert!(span.attribute("db.operation").is_some(), "{name} names its operation");
            // Transaction control is no statement sea-orm reports, so it carries no database name.
            if !["sea_orm.begin", "sea_orm.commit", "sea_orm.rollback"].contains(&name) {
                let namespace = span.attribute("db.namespace").unwrap_or_default();
                assert!(postgres.databases.contains(&namespace), "{name} names its database, not {namespace:?}");
            }
        }
        assert!(!name.ends_with("_raw") && name != "connect", "sea-orm's function span {name} was exported");
    }

    let served = |method: &str| {
        histograms.iter().any(|point| {
            point.metric == "rpc.server.duration"
                && point.attribute("rpc.method") == Some(method)
                && point.attribute("rpc.grpc.status_code") == Some("0")
                && point.count > 0
        })
    };
    assert!(served("CreateDossier") && served("GetDossier"), "rpc.server.duration counts the demo's calls");
    assert!(
        histograms.iter().any(|point| point.metric == "rpc.client.duration"
            && point.attribute("rpc.service") == Some("motcua.signing.v1.SigningService")),
        "rpc.client.duration counts intake's calls to signing"
    );
}

const KEY_ENCRYPTION_SECRET: &str = "telemetry-test-key-encryption-secret-5b0c";
const APPLICANT_INDEX_KEY: &str = "telemetry-test-applicant-index-key-9e1d";

/// Signing, intake, receipt and reporting, each on its own database, wired to each other.
async fn start_four(postgres: &PostgresRole) -> Vec<RunningServer> {
    let config = |kind: ServiceKind| ServiceConfig::for_local(kind, postgres.url(kind));
    let mut signing_config = config(ServiceKind::Signing);
    signing_config
        .service_variables
        .insert(motcua_signing::settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET, KEY_ENCRYPTION_SECRET.to_owned());
    let signing = start_service_with::<motcua_signing::Signing>(signing_config).await;
    let signing_url = format!("http://{}", signing.local_addr);

    let mut receipt_config = config(ServiceKind::Receipt);
    receipt_config.service_variables.insert(motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL, signing_url.clone());
    let receipt = start_service_with::<motcua_receipt::Receipt>(receipt_config).await;
    // The branch's open slip series, so the dossier's slip is issued before the quiet starts rather
    // than retried through it.
    let mut receipts = motcua_proto::motcua::receipt::v1::receipt_service_client::ReceiptServiceClient::new(
        motcua_chassis::peer::connect_lazy(&format!("http://{}", receipt.local_addr)).expect("a URL"),
    );
    let today = motcua_chassis::timestamps::local_date(motcua_chassis::clock::Clock::system().now());
    let year = chrono::Datelike::year(&today);
    for (kind, template_symbol) in [
        (motcua_proto::motcua::receipt::v1::ReceiptKind::AcknowledgementSlip, "01/TN"),
        (motcua_proto::motcua::receipt::v1::ReceiptKind::FeeReceipt, "01BLP0-001"),
    ] {
        let request = motcua_proto::motcua::receipt::v1::CreateSeriesRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            branch_code: "CN01".to_owned(),
            year,
            kind: kind as i32,
            template_symbol: template_symbol.to_owned(),
            series_symbol: format!("CN01-{}T", year % 100),
            ..Default::default()
        };
        receipts.create_series(request).await.expect("a series");
    }

    let mut intake_config = config(ServiceKind::Intake);
    intake_config.service_variables.insert(motcua_intake::settings::ENV_INTAKE_SIGNING_URL, signing_url.clone());
    intake_config
        .service_variables
        .insert(motcua_intake::settings::ENV_INTAKE_RECEIPT_URL, format!("http://{}", receipt.local_addr));
    intake_config
        .service_variables
        .insert(motcua_intake::settings::ENV_INTAKE_APPLICANT_INDEX_KEY, APPLICANT_INDEX_KEY.to_owned());
    let intake = start_service_with::<motcua_intake::Intake>(intake_config).await;

    let mut reporting_config = config(ServiceKind::Reporting);
    for (variable, server) in [
        (motcua_reporting::settings::ENV_REPORTING_INTAKE_URL, &intake),
        (motcua_reporting::settings::ENV_REPORTING_SIGNING_URL, &signing),
        (motcua_reporting::settings::ENV_REPORTING_RECEIPT_URL, &receipt),
    ] {
        reporting_config.service_variables.insert(variable, format!("http://{}", server.local_addr));
    }
    let reporting = start_service_with::<motcua_reporting::Reporting>(reporting_config).await;
    vec![intake, signing, receipt, reporting]
}

/// The demo's way for one dossier; returns how many calls it made.
async fn demo(intake_url: &str) -> usize {
    let mut intake = IntakeServiceClient::connect(intake_url.to_owned()).await.expect("intake answers");
    let officer = || Some(pb::Officer { officer_id: "CB100".to_owned(), ..Default::default() });
    intake
        .list_procedures(pb::ListProceduresRequest { query: "khai sinh".to_owned(), ..Default::default() })
        .await
        .expect("the catalogue answers");
    let procedure = intake
        .get_procedure(pb::GetProcedureRequest { name: "procedures/1.012822".to_owned(), version: 0 })
        .await
        .expect("procedure")
        .into_inner();
    let components = procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| pb::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            ..Default::default()
        })
        .collect();
    let dossier = intake
        .create_dossier(pb::CreateDossierRequest {
            request_id: "telemetry-create".to_owned(),
            branch_code: "CN01".to_owned(),
            procedure_code: "1.012822".to_owned(),
            channel: Channel::InPerson as i32,
            applicant: Some(Applicant {
                kind: Some(Kind::Citizen(Citizen {
                    identity_number: IDENTITY_NUMBER.to_owned(),
                    full_name: FULL_NAME.to_owned(),
                    ..Default::default()
                })),
            }),
            receiving_officer: officer(),
            components,
        })
        .await
        .expect("filed")
        .into_inner()
        .dossier
        .expect("dossier");
    intake
        .start_processing(pb::StartProcessingRequest {
            request_id: "telemetry-start".to_owned(),
            name: dossier.name.clone(),
            actor: officer(),
            ..Default::default()
        })
        .await
        .expect("processing");
    // Whatever signing answers (this officer has no certificate), the call crosses the services.
    let _ = intake
        .resolve_dossier(pb::ResolveDossierRequest {
            request_id: "telemetry-resolve".to_owned(),
            name: dossier.name.clone(),
            actor: officer(),
            result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
                media_type: "application/pdf".to_owned(),
                content: b"%PDF-1.7 result".to_vec(),
                ..Default::default()
            })),
            electronic: true,
            reason: String::new(),
        })
        .await;
    intake
        .get_dossier(pb::GetDossierRequest { name: dossier.name.clone(), ..Default::default() })
        .await
        .expect("the dossier reads back");
    6
}

/// The number of spans and of RPCs served (server spans) in each trace rooted in a server span of
/// intake that started after `demo_start`: the traces of the demo's own calls, with the RPCs their jobs
/// made (a dossier's creation brings its slip through receipt and signing), by the root's name.
fn traces_of_the_demos_calls(spans: &[ExportedSpan], demo_start: u64) -> BTreeMap<String, (usize, usize)> {
    let mut traces = BTreeMap::new();
    for root in spans.iter().filter(|span| {
        span.span.kind == SERVER
            && span.span.parent_span_id.is_empty()
            && span.span.name.starts_with("motcua.intake.v1.IntakeService/")
            && !span.span.name.ends_with("/WatchEvents")
            && span.span.start_time_unix_nano >= demo_start
    }) {
        let in_trace: Vec<_> = spans.iter().filter(|span| span.span.trace_id == root.span.trace_id).collect();
        let rpcs = in_trace.iter().filter(|span| span.span.kind == SERVER).count();
        traces.insert(root.span.name.clone(), (in_trace.len(), rpcs));
    }
    traces
}

fn now_nanos() -> u64 {
    SystemTime::from(motcua_chassis::clock::Clock::system().now())
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or_default()
}

/// The rotel binary: `MOTCUA_TEST_ROTEL`, `rotel` or `rotel-agent` on PATH, or the one inside the
/// Python package `pip install rotel` puts in site-packages (it installs no command of its own).
fn rotel_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTCUA_TEST_ROTEL") {
        return PathBuf::from(path);
    }
    let on_path =
        std::env::var_os("PATH").into_iter().flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    for folder in on_path {
        for name in ["rotel", "rotel-agent"] {
            let candidate = folder.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    for python in ["python3", "python"] {
        let output = Command::new(python)
            .args(["-c", "import rotel.agent; print(rotel.agent.Agent.agent_path)"])
            .stderr(Stdio::null())
            .output();
        if let Ok(output) = output {
            let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            if output.status.success() && path.is_file() {
                return path;
            }
        }
    }
    panic!(
        "this test needs the rotel collector: `pip install rotel` (its binary is found through Python's \
         `rotel` package, on PATH as rotel or rotel-agent, or at MOTCUA_TEST_ROTEL)"
    );
}

/// A running rotel: OTLP/gRPC in on a free loopback port, a detailed debug log of every span and
/// metric to a file, and everything forwarded over OTLP/gRPC to `forward_to`.
struct Rotel {
    child: Option<Child>,
    grpc_port: u16,
    folder: PathBuf,
}

impl Rotel {
    fn start(binary: &Path, forward_to: &str) -> Self {
        let folder = std::env::temp_dir().join(format!("motcua-rotel-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("a folder for rotel's files");
        let (grpc_port, http_port) = (free_port(), free_port());
        let output = File::create(folder.join("output.log")).expect("rotel's output file");
        let errors = output.try_clone().expect("rotel's output file, twice");
        let child = Command::new(binary)
            .arg("start")
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .args(["--exporter", "otlp", "--otlp-exporter-endpoint", forward_to])
            .args(["--debug-log", "traces", "--debug-log", "metrics", "--debug-log-verbosity", "detailed"])
            .arg("--pid-file")
            .arg(folder.join("rotel.pid"))
            .arg("--log-file")
            .arg(folder.join("rotel.log"))
            .stdout(output)
            .stderr(errors)
            .spawn()
            .unwrap_or_else(|error| panic!("rotel at {} does not start: {error}", binary.display()));
        let rotel = Self { child: Some(child), grpc_port, folder };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "rotel did not listen on {grpc_port}: {}", rotel.output());
            std::thread::sleep(Duration::from_millis(50));
        }
        rotel
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.folder.join("output.log")).unwrap_or_default()
    }

    /// Stops rotel and returns everything it logged.
    fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.output()
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// A PostgreSQL role with a password and one database per service it owns, dropped with it.
struct PostgresRole {
    admin_url: String,
    host: String,
    role: String,
    password: String,
    databases: Vec<String>,
}

impl PostgresRole {
    /// Creates the role and databases, or returns `None` (with a line on stderr) when no PostgreSQL
    /// answers and `MOTCUA_REQUIRE_POSTGRES` is not 1.
    async fn create() -> Option<Self> {
        let admin_url = std::env::var("MOTCUA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = match Database::connect(admin_url.as_str()).await {
            Ok(admin) => admin,
            Err(error) if std::env::var("MOTCUA_REQUIRE_POSTGRES").as_deref() != Ok("1") => {
                eprintln!("PostgreSQL at {admin_url} is not reachable ({error}); skipping the telemetry test");
                return None;
            }
            Err(error) => panic!("MOTCUA_REQUIRE_POSTGRES=1 but PostgreSQL at {admin_url} is not reachable: {error}"),
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let role = format!("motcua_telemetry_{}", &suffix[..12]);
        let password = format!("pw{}", &suffix[12..]);
        let host = admin_url
            .split_once('@')
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or_default().to_owned())
            .expect("MOTCUA_TEST_POSTGRES_URL has a user@host part");
        admin
            .execute_unprepared(&format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
            .await
            .expect("a role with a password");
        let mut created = Self { admin_url, host, role, password, databases: Vec::new() };
        for kind in ServiceKind::ALL {
            let database = format!("{}_{}", created.role, kind.name());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {database} OWNER {}", created.role))
                .await
                .expect("a database for the role");
            created.databases.push(database);
        }
        Some(created)
    }

    /// The URL `kind` connects with: the role's name and password, as production's Secret holds it.
    fn url(&self, kind: ServiceKind) -> String {
        format!("postgres://{}:{}@{}/{}_{}", self.role, self.password, self.host, self.role, kind.name())
    }
}

impl Drop for PostgresRole {
    fn drop(&mut self) {
        let (admin_url, role, databases) = (self.admin_url.clone(), self.role.clone(), self.databases.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own with
        // its own runtime drops the databases and the role.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = Database::connect(admin_url.as_str()).await.ok()?;
                for database in databases {
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await.ok()?;
                }
                admin.execute_unprepared(&format!("DROP ROLE IF EXISTS {role}")).await.ok()
            })
        });
        let _ = dropper.join();
    }
}
