//! The real `motcua up` as a child process: built by cargo, started with JSON logs and trace export,
//! its output kept in files, stopped with SIGTERM as an orchestrator stops it.

use std::{
    fs::File,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::OnceLock,
    time::{Duration, Instant},
};

use motcua_chassis::{ServiceKind, config};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// How long the four services may take to migrate their fresh databases and report SERVING.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long a SIGTERM may take: drain (0 under `motcua up`), in-flight calls, the last trace export.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// The `motcua` binary, built by cargo on first use (`motcua_testkit::binaries`).
pub fn motcua_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let mut built = motcua_testkit::binaries::build(env!("CARGO_MANIFEST_DIR"), "personal_data", &["motcua"]);
        built.remove("motcua").expect("the build names the motcua binary")
    })
}

/// A running `motcua up` and the files it writes; killed and cleaned up however the test ends.
pub struct Suite {
    child: Option<Child>,
    pub host: IpAddr,
    dir: PathBuf,
}

impl Suite {
    /// Starts `motcua up` on `host` with a fresh data folder, JSON logs at `log_filter` (`None`: the
    /// default, MOTCUA_LOG unset) and spans exported to `otlp_endpoint`; returns once all four serve.
    pub async fn start(host: IpAddr, log_filter: Option<&str>, otlp_endpoint: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("motcua-personal-data-{}-{host}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let mut command = Command::new(motcua_binary());
        command.args(["up", "--host", &host.to_string(), "--data-dir"]).arg(dir.join("data"));
        // Only what this test sets: nothing from the caller's environment changes what is logged.
        for (variable, _) in std::env::vars_os() {
            let name = variable.to_string_lossy();
            if name.starts_with("MOTCUA_") || name.starts_with("OTEL_") || name == "RUST_LOG" {
                command.env_remove(&variable);
            }
        }
        command.env(config::ENV_LOG_FORMAT, "json").env(config::ENV_OTEL_EXPORTER_OTLP_ENDPOINT, otlp_endpoint);
        // The troubleshooting run widens what is exported as well as what is logged.
        if let Some(filter) = log_filter {
            command.env(config::ENV_LOG, filter).env(config::ENV_TRACE_FILTER, filter);
        }
        let stdout = File::create(dir.join("stdout")).expect("a stdout file");
        let stderr = File::create(dir.join("stderr")).expect("a stderr file");
        let child = command.stdout(stdout).stderr(stderr).spawn().expect("motcua up starts");
        let mut suite = Self { child: Some(child), host, dir };
        suite.wait_until_serving().await;
        suite
    }

    pub fn url(&self, kind: ServiceKind) -> String {
        format!("http://{}", SocketAddr::new(self.host, kind.default_port()))
    }

    async fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + START_WAIT;
        for kind in ServiceKind::ALL {
            loop {
                if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                    panic!("motcua up exited with {status} before serving:\n{}", self.stderr());
                }
                if self.serves(kind).await {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not serve within {START_WAIT:?}:\n{}",
                    kind.name(),
                    self.stderr()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    async fn serves(&self, kind: ServiceKind) -> bool {
        let Ok(endpoint) = tonic::transport::Endpoint::from_shared(self.url(kind)) else { return false };
        let Ok(channel) = endpoint.connect().await else { return false };
        let mut health = HealthClient::new(channel);
        let request = HealthCheckRequest { service: kind.grpc_service_name().to_owned() };
        health.check(request).await.is_ok_and(|answer| answer.into_inner().status() == ServingStatus::Serving)
    }

    /// Sends SIGTERM and waits for a clean exit, after which the process has flushed its last spans.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("the suite is running");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent to motcua up");
        let deadline = Instant::now() + STOP_WAIT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child's status") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("motcua up did not stop within {STOP_WAIT:?} of SIGTERM:\n{}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "motcua up stops cleanly on SIGTERM ({status}):\n{}", self.stderr());
    }

    /// Everything the process wrote to stderr: its log lines.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// Everything the process wrote to stdout: where each service listens.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
