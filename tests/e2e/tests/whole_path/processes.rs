//! The four services as the built binaries (`motcua-intake`, `-signing`, `-receipt`, `-reporting`),
//! each replica a child process with its own environment: a PostgreSQL database per service, ports on
//! 127.0.0.1, mutual TLS from the kit's PKI and the shipped policy file. Each is killed (SIGKILL) or
//! stopped (SIGTERM) on demand and started again where its peers expect it; all are killed on drop, and
//! a failing test prints the tail of every log.

use std::{
    collections::HashMap,
    fs::File,
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command},
    sync::OnceLock,
    time::{Duration, Instant},
};

use motcua_chassis::{ServiceKind, config};
use motcua_intake::settings::{ENV_INTAKE_RECEIPT_URL, ENV_INTAKE_SIGNING_URL};
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;
use motcua_reporting::settings::{ENV_REPORTING_INTAKE_URL, ENV_REPORTING_RECEIPT_URL, ENV_REPORTING_SIGNING_URL};
use motcua_signing::settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET;
use motcua_testkit::{TestDatabase, pki::Pki, services::TEST_SECRET, wait::free_loopback_address};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// How long a binary may take to migrate its fresh database and report SERVING.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long a SIGTERM may take (the drain is 0 here): in-flight calls and the runner's last jobs.
const STOP_WAIT: Duration = Duration::from_secs(20);
/// Lines of each log a failing test prints.
const TAIL_LINES: usize = 40;

/// The policy shipped for production, which every service and caller here is held to.
pub const SHIPPED_POLICY: &str = include_str!("../../../../deploy/k8s/base/policy.yaml");

/// The built binary of each service, built by cargo on first use (`motcua_testkit::binaries`).
fn binaries() -> &'static HashMap<ServiceKind, PathBuf> {
    static BINARIES: OnceLock<HashMap<ServiceKind, PathBuf>> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let names: Vec<String> = ServiceKind::ALL.into_iter().map(binary_name).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut built = motcua_testkit::binaries::build(env!("CARGO_MANIFEST_DIR"), "whole_path", &names);
        ServiceKind::ALL
            .into_iter()
            .map(|kind| (kind, built.remove(&binary_name(kind)).expect("the build names every service binary")))
            .collect()
    })
}

fn binary_name(kind: ServiceKind) -> String {
    format!("motcua-{}", kind.name())
}

/// One replica of one service: its addresses, environment and log, and the child while it runs.
pub struct Process {
    pub kind: ServiceKind,
    pub replica: usize,
    /// Where it serves gRPC under mutual TLS.
    pub addr: SocketAddr,
    /// Where it serves plaintext health, for the waits here.
    health: SocketAddr,
    env: Vec<(&'static str, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Process {
    pub fn label(&self) -> String {
        format!("{}#{}", self.kind.name(), self.replica)
    }

    /// Starts the binary (appending to its log) and returns once it reports SERVING.
    pub async fn start(&mut self) {
        self.spawn();
        self.wait_until_serving().await;
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.label());
        let mut command = Command::new(&binaries()[&self.kind]);
        // Only what this test sets: nothing from the caller's environment changes the services.
        for (variable, _) in std::env::vars_os() {
            let name = variable.to_string_lossy();
            if name.starts_with("MOTCUA_") || name.starts_with("OTEL_") || name == "RUST_LOG" {
                command.env_remove(&variable);
            }
        }
        command.envs(self.env.iter().map(|(name, value)| (*name, value.as_str())));
        let log = File::options().create(true).append(true).open(&self.log).expect("a log file");
        let errors = log.try_clone().expect("the log file twice");
        let child = command.stdout(log).stderr(errors).spawn().expect("the service binary starts");
        self.child = Some(child);
    }

    async fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + START_WAIT;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                panic!("{} exited with {status} before serving:\n{}", self.label(), self.tail());
            }
            if self.serves().await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve within {START_WAIT:?}:\n{}",
                self.label(),
                self.tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn serves(&self) -> bool {
        let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://{}", self.health)) else {
            return false;
        };
        let Ok(channel) = endpoint.connect_timeout(Duration::from_secs(1)).connect().await else { return false };
        let request = HealthCheckRequest { service: self.kind.grpc_service_name().to_owned() };
        HealthClient::new(channel)
            .check(request)
            .await
            .is_ok_and(|answer| answer.into_inner().status() == ServingStatus::Serving)
    }

    /// SIGKILL, as a crash or an evicted pod: nothing is drained.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, as an orchestrator stops it, and waits for a clean exit.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().unwrap_or_else(|| panic!("{} is running", self.label()));
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent to {}", self.label());
        let deadline = Instant::now() + STOP_WAIT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child's status") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not stop within {STOP_WAIT:?} of SIGTERM:\n{}", self.label(), self.tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "{} stops cleanly on SIGTERM ({status}):\n{}", self.label(), self.tail());
    }

    /// The last lines the process wrote.
    pub fn tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
    }
}

/// Which database a cluster's services store in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// A SQLite file per service: the embedded default.
    Sqlite,
    /// A PostgreSQL database per service, as in production.
    Postgres,
}

/// Every replica of the four services, their databases and PKI, wired replica to replica: intake #r
/// calls signing #r and receipt #r, receipt #r calls signing #r, reporting #r follows all three #r.
pub struct Cluster {
    pub pki: Pki,
    pub databases: HashMap<ServiceKind, TestDatabase>,
    pub processes: Vec<Process>,
}

impl Cluster {
    /// `replicas` of every service on fresh databases of `store` (one per service, shared by its
    /// replicas; a SQLite file belongs to one process, so one replica there), every replica started and
    /// serving; `None` when no PostgreSQL answers and none is required. The policy is the shipped one plus `extra_policy` (identities of the test's set-up).
    pub async fn start(store: Store, replicas: usize, extra_policy: &str) -> Option<Self> {
        assert!(store == Store::Postgres || replicas == 1, "replicas share a database on PostgreSQL only");
        let mut databases = HashMap::new();
        for kind in ServiceKind::ALL {
            let database = match store {
                Store::Sqlite => TestDatabase::sqlite(),
                Store::Postgres => TestDatabase::postgres().await?,
            };
            databases.insert(kind, database);
        }
        let pki = Pki::new();
        let folder = pki.folder.join("logs");
        std::fs::create_dir_all(&folder).expect("a log folder");
        let policy = pki.write("policy.yaml", &format!("{SHIPPED_POLICY}{extra_policy}"));
        let addrs: HashMap<(ServiceKind, usize), SocketAddr> = ServiceKind::ALL
            .into_iter()
            .flat_map(|kind| (0..replicas).map(move |replica| (kind, replica)))
            .map(|key| (key, free_loopback_address()))
            .collect();
        let url = |kind, replica| format!("https://{}", addrs[&(kind, replica)]);
        let mut processes = Vec::new();
        for kind in ServiceKind::ALL {
            for replica in 0..replicas {
                let name = format!("{}-{replica}", kind.name());
                // Peers dial https://127.0.0.1:port and check that name; callers here check localhost.
                let (cert, key) =
                    pki.issue(Some(&format!("service/{}", kind.name())), &["localhost", "127.0.0.1"], false);
                let health = free_loopback_address();
                let mut env = vec![
                    (config::ENV_LISTEN_ADDR, addrs[&(kind, replica)].to_string()),
                    (config::ENV_HEALTH_LISTEN_ADDR, health.to_string()),
                    (config::ENV_DATABASE_URL, databases[&kind].url.clone()),
                    // The first replica migrates; the others start on the migrated schema, as behind a
                    // migrate Job.
                    (config::ENV_MIGRATE_ON_START, (replica == 0).to_string()),
                    // Eight processes share PostgreSQL's 100 connections with the other tests.
                    (config::ENV_DB_MAX_CONNECTIONS, "5".to_owned()),
                    (config::ENV_TLS_CERT, pki.write(&format!("{name}.pem"), &cert).display().to_string()),
                    (config::ENV_TLS_KEY, pki.write(&format!("{name}.key"), &key).display().to_string()),
                    (config::ENV_TLS_CLIENT_CA, pki.folder.join("ca.pem").display().to_string()),
                    (config::ENV_POLICY_FILE, policy.display().to_string()),
                    (config::ENV_LOG_FORMAT, "json".to_owned()),
                    (config::ENV_SHUTDOWN_DRAIN_MS, "0".to_owned()),
                    (config::ENV_SHUTDOWN_GRACE_MS, "5000".to_owned()),
                    // A peer that comes back is found within a second; a job never runs out of attempts.
                    (config::ENV_JOBS_FIRST_BACKOFF_MS, "100".to_owned()),
                    (config::ENV_JOBS_MAX_BACKOFF_MS, "1000".to_owned()),
                    (config::ENV_JOBS_MAX_ATTEMPTS, "100000".to_owned()),
                    // A replica stopped mid-attempt keeps its jobs' leases until they expire (the runner
                    // does not hand them back on SIGTERM): 10 s, not 60, bounds that wait here.
                    (config::ENV_JOBS_LEASE_MS, "10000".to_owned()),
                    // One counter application files for the whole center here: the per-identity limits
                    // are not what these tests measure.
                    (config::ENV_RATE_LIMIT_PER_IDENTITY, "100000".to_owned()),
                    (config::ENV_CONCURRENCY_PER_IDENTITY, "1000".to_owned()),
                    (config::ENV_OTEL_SDK_DISABLED, "true".to_owned()),
                ];
                env.extend(peer_variables(kind, replica, &url));
                processes.push(Process {
                    kind,
                    replica,
                    addr: addrs[&(kind, replica)],
                    health,
                    env,
                    log: folder.join(format!("{name}.log")),
                    child: None,
                });
            }
        }
        let mut cluster = Self { pki, databases, processes };
        // The first replicas migrate at once; the others wait for the schema.
        for first in [true, false] {
            let starting = |process: &&mut Process| (process.replica == 0) == first;
            cluster.processes.iter_mut().filter(starting).for_each(Process::spawn);
            for process in cluster.processes.iter_mut().filter(starting) {
                process.wait_until_serving().await;
            }
        }
        Some(cluster)
    }

    pub fn process(&mut self, kind: ServiceKind, replica: usize) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|process| process.kind == kind && process.replica == replica)
            .expect("a replica of the cluster")
    }

    /// Where replica `replica` of `kind` serves.
    pub fn addr(&self, kind: ServiceKind, replica: usize) -> SocketAddr {
        self.processes
            .iter()
            .find(|process| process.kind == kind && process.replica == replica)
            .map(|process| process.addr)
            .expect("a replica of the cluster")
    }

    /// The last lines of every process's log.
    pub fn tails(&self) -> String {
        self.processes
            .iter()
            .map(|process| {
                format!("----- {} (log {}) -----\n{}", process.label(), process.log.display(), process.tail())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the services' logs at the failure:\n{}", self.tails());
        }
        for process in &mut self.processes {
            process.kill();
        }
    }
}

/// The peer URLs `kind`'s replica `replica` is given.
fn peer_variables(
    kind: ServiceKind,
    replica: usize,
    url: &impl Fn(ServiceKind, usize) -> String,
) -> Vec<(&'static str, String)> {
    match kind {
        ServiceKind::Intake => vec![
            (ENV_INTAKE_SIGNING_URL, url(ServiceKind::Signing, replica)),
            (ENV_INTAKE_RECEIPT_URL, url(ServiceKind::Receipt, replica)),
        ],
        ServiceKind::Signing => vec![(ENV_SIGNING_KEY_ENCRYPTION_SECRET, TEST_SECRET.to_owned())],
        ServiceKind::Receipt => vec![(ENV_RECEIPT_SIGNING_URL, url(ServiceKind::Signing, replica))],
        ServiceKind::Reporting => vec![
            (ENV_REPORTING_INTAKE_URL, url(ServiceKind::Intake, replica)),
            (ENV_REPORTING_SIGNING_URL, url(ServiceKind::Signing, replica)),
            (ENV_REPORTING_RECEIPT_URL, url(ServiceKind::Receipt, replica)),
        ],
    }
}
