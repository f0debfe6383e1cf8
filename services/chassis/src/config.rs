//! Every environment variable a motcua service reads, with its default, in one place.
//!
//! The list in [`VARIABLES`] is the single source of truth: docs/operations.md and the deployment
//! manifests are checked against it. Variables are read once at start-up into a [`ServiceConfig`].

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use thiserror::Error;

/// Where a service listens (`host:port`); default per service (intake 50051 ... reporting 54).
pub const ENV_LISTEN_ADDR: &str = "MOTCUA_LISTEN_ADDR";
/// The database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
pub const ENV_DATABASE_URL: &str = "MOTCUA_DATABASE_URL";
/// Whether the service runs its migrations at start-up (`true`) or expects `migrate` to have run.
pub const ENV_MIGRATE_ON_START: &str = "MOTCUA_MIGRATE_ON_START";
/// The most database connections in the pool.
pub const ENV_DB_MAX_CONNECTIONS: &str = "MOTCUA_DB_MAX_CONNECTIONS";
/// Log line format: `json` (one object a line, with trace ids) or `pretty` (for a terminal).
pub const ENV_LOG_FORMAT: &str = "MOTCUA_LOG_FORMAT";
/// Log filter in `tracing_subscriber::EnvFilter` syntax.
pub const ENV_LOG: &str = "MOTCUA_LOG";
/// The most requests a service handles at once; further ones are shed with RESOURCE_EXHAUSTED.
pub const ENV_MAX_CONCURRENT_REQUESTS: &str = "MOTCUA_MAX_CONCURRENT_REQUESTS";
/// The longest a request may run, in milliseconds, when the caller sets no shorter deadline.
pub const ENV_REQUEST_TIMEOUT_MS: &str = "MOTCUA_REQUEST_TIMEOUT_MS";
/// The largest request message a service accepts, in bytes.
pub const ENV_MAX_MESSAGE_BYTES: &str = "MOTCUA_MAX_MESSAGE_BYTES";
/// How long, after SIGTERM, a service keeps answering while reporting NOT_SERVING, in milliseconds,
/// so that load balancers stop sending before it stops accepting.
pub const ENV_SHUTDOWN_DRAIN_MS: &str = "MOTCUA_SHUTDOWN_DRAIN_MS";
/// How long in-flight requests may take to finish after the drain, in milliseconds.
pub const ENV_SHUTDOWN_GRACE_MS: &str = "MOTCUA_SHUTDOWN_GRACE_MS";
/// The folder holding the SQLite files of `motcua up`.
pub const ENV_DATA_DIR: &str = "MOTCUA_DATA_DIR";
/// Intake's folder of seed data (catalogue, branches, holidays); empty means the files built into the
/// binary.
pub const ENV_INTAKE_SEED_DIR: &str = "MOTCUA_INTAKE_SEED_DIR";
/// Signing's key-encryption secret: the password of every private key it keeps as encrypted PKCS#8.
/// Unset, a development secret is derived and a warning logged: never in production.
pub const ENV_SIGNING_KEY_ENCRYPTION_SECRET: &str = "MOTCUA_SIGNING_KEY_ENCRYPTION_SECRET";
/// Signing's transparency log origin: the first line of every checkpoint.
pub const ENV_SIGNING_LOG_ORIGIN: &str = "MOTCUA_SIGNING_LOG_ORIGIN";
/// Signing's PKCS#11 module (a `.so` path); set, new ECDSA keys are made in its token.
pub const ENV_SIGNING_PKCS11_MODULE: &str = "MOTCUA_SIGNING_PKCS11_MODULE";
/// The label of the PKCS#11 token signing uses.
pub const ENV_SIGNING_PKCS11_TOKEN_LABEL: &str = "MOTCUA_SIGNING_PKCS11_LABEL";
/// The user PIN of that token.
pub const ENV_SIGNING_PKCS11_PIN: &str = "MOTCUA_SIGNING_PKCS11_PIN";
/// Intake's secret key for the keyed hash under which applicants' identity numbers and tax codes are
/// indexed. Changing it makes stored dossiers unfindable by applicant: set it once per deployment.
pub const ENV_INTAKE_APPLICANT_INDEX_KEY: &str = "MOTCUA_INTAKE_APPLICANT_INDEX_KEY";
/// Intake's address of the signing service, which signs and seals dossier results.
pub const ENV_INTAKE_SIGNING_URL: &str = "MOTCUA_INTAKE_SIGNING_URL";
/// intake: the printed form of dossier codes.
pub const ENV_INTAKE_DOSSIER_CODE_FORMAT: &str = "MOTCUA_INTAKE_DOSSIER_CODE_FORMAT";
/// Receipt's address of the signing service, which signs every receipt's canonical XML.
pub const ENV_RECEIPT_SIGNING_URL: &str = "MOTCUA_RECEIPT_SIGNING_URL";
/// How many concurrent receipts of one series one replica numbers in one transaction (1: one each).
pub const ENV_RECEIPT_NUMBER_BATCH: &str = "MOTCUA_RECEIPT_NUMBER_BATCH";
/// reporting: URL of intake, whose event feed it follows.
pub const ENV_REPORTING_INTAKE_URL: &str = "MOTCUA_REPORTING_INTAKE_URL";
/// reporting: URL of signing, whose event feed it follows.
pub const ENV_REPORTING_SIGNING_URL: &str = "MOTCUA_REPORTING_SIGNING_URL";
/// reporting: URL of receipt, whose event feed it follows.
pub const ENV_REPORTING_RECEIPT_URL: &str = "MOTCUA_REPORTING_RECEIPT_URL";
/// reporting: the points of the Decision 766 indicators, overriding the defaults.
pub const ENV_REPORTING_INDEX_POINTS: &str = "MOTCUA_REPORTING_INDEX_POINTS";
/// A plaintext port serving grpc.health.v1 alone, for Kubernetes' probes when the main port requires
/// mutual TLS.
pub const ENV_HEALTH_LISTEN_ADDR: &str = "MOTCUA_HEALTH_LISTEN_ADDR";
/// The service's TLS certificate chain (PEM). With the key and the client CA it switches on mutual TLS.
pub const ENV_TLS_CERT: &str = "MOTCUA_TLS_CERT";
/// The service's TLS private key (PEM).
pub const ENV_TLS_KEY: &str = "MOTCUA_TLS_KEY";
/// The CA (PEM) that issues callers' client certificates; a caller without one is refused.
pub const ENV_TLS_CLIENT_CA: &str = "MOTCUA_TLS_CLIENT_CA";
/// The revocation lists (PEM, one or more) the client CA publishes; a revoked caller fails the handshake.
pub const ENV_TLS_CLIENT_CRL: &str = "MOTCUA_TLS_CLIENT_CRL";
/// How often the TLS files are checked for changes, in milliseconds; changed files apply to new
/// connections without a restart.
pub const ENV_TLS_RELOAD_INTERVAL_MS: &str = "MOTCUA_TLS_RELOAD_INTERVAL_MS";
/// `true` switches on the development mode: plaintext, caller named by `x-motcua-identity` metadata,
/// loopback only.
pub const ENV_DEV_IDENTITY: &str = "MOTCUA_DEV_IDENTITY";
/// The policy file (YAML): which RPCs each identity may call, for which branches and procedures.
pub const ENV_POLICY_FILE: &str = "MOTCUA_POLICY_FILE";
/// Requests a second each caller identity may make (twice that in a burst).
pub const ENV_RATE_LIMIT_PER_IDENTITY: &str = "MOTCUA_RATE_LIMIT_PER_IDENTITY";
/// Calls each caller identity may have open at once (a stream counts until it ends).
pub const ENV_CONCURRENCY_PER_IDENTITY: &str = "MOTCUA_CONCURRENCY_PER_IDENTITY";
/// Standard OpenTelemetry: the OTLP/gRPC endpoint; traces are exported only when it is set.
pub const ENV_OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// Standard OpenTelemetry: the service name on every span (defaults to `motcua-<service>`).
pub const ENV_OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Standard OpenTelemetry: extra resource attributes, `key=value,key=value`.
pub const ENV_OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// One configuration variable: its name, its default and what it is for.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    /// The environment variable's name.
    pub name: &'static str,
    /// The default, as text; `<per service>` where each service has its own.
    pub default: &'static str,
    /// Whether it carries a secret (then it belongs in a Kubernetes Secret, never a ConfigMap).
    pub secret: bool,
    /// One line on what it sets.
    pub description: &'static str,
}

/// Every variable any motcua service reads.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: ENV_LISTEN_ADDR,
        default: "<per service: 0.0.0.0:50051 intake, :50052 signing, :50053 receipt, :50054 reporting>",
        secret: false,
        description: "address and port the gRPC server listens on",
    },
    Variable {
        name: ENV_DATABASE_URL,
        default: "<per service: sqlite://data/<service>.db?mode=rwc>",
        secret: true,
        description: "database URL, SQLite or PostgreSQL",
    },
    Variable {
        name: ENV_MIGRATE_ON_START,
        default: "true",
        secret: false,
        description: "run migrations at start-up; set false when a migrate Job runs them",
    },
    Variable {
        name: ENV_DB_MAX_CONNECTIONS,
        default: "<SQLite 1, PostgreSQL 16>",
        secret: false,
        description: "most connections in the database pool",
    },
    Variable { name: ENV_LOG_FORMAT, default: "json", secret: false, description: "log format: json or pretty" },
    Variable { name: ENV_LOG, default: "info", secret: false, description: "log filter (tracing EnvFilter syntax)" },
    Variable {
        name: ENV_MAX_CONCURRENT_REQUESTS,
        default: "256",
        secret: false,
        description: "requests handled at once; more are shed with RESOURCE_EXHAUSTED",
    },
    Variable {
        name: ENV_REQUEST_TIMEOUT_MS,
        default: "30000",
        secret: false,
        description: "longest a request may run when the caller's deadline is longer or unset",
    },
    Variable {
        name: ENV_MAX_MESSAGE_BYTES,
        default: "4194304",
        secret: false,
        description: "largest request message accepted",
    },
    Variable {
        name: ENV_SHUTDOWN_DRAIN_MS,
        default: "5000",
        secret: false,
        description: "time NOT_SERVING before the listener closes on SIGTERM",
    },
    Variable {
        name: ENV_SHUTDOWN_GRACE_MS,
        default: "10000",
        secret: false,
        description: "time in-flight requests get to finish after the drain",
    },
    Variable {
        name: ENV_DATA_DIR,
        default: "data",
        secret: false,
        description: "folder of the SQLite files used by `motcua up`",
    },
    Variable {
        name: ENV_INTAKE_SEED_DIR,
        default: "",
        secret: false,
        description: "intake: folder replacing the built-in seed files (procedures, branches, holidays)",
    },
    Variable {
        name: ENV_INTAKE_APPLICANT_INDEX_KEY,
        default: "<a development key, with a warning>",
        secret: true,
        description: "intake: secret key of the applicant index (keyed hash of identity numbers and tax codes)",
    },
    Variable {
        name: ENV_INTAKE_SIGNING_URL,
        default: "http://127.0.0.1:50052",
        secret: false,
        description: "intake: URL of the signing service (results are signed and sealed there)",
    },
    Variable {
        name: ENV_INTAKE_DOSSIER_CODE_FORMAT,
        default: "{agency}-{date:%y%m%d}-{number:4}",
        secret: false,
        description: "intake: the printed form of dossier codes: {agency}, {date:FORMAT} and {number:DIGITS} once each",
    },
    Variable {
        name: ENV_RECEIPT_SIGNING_URL,
        default: "http://127.0.0.1:50052",
        secret: false,
        description: "receipt: URL of the signing service (every receipt is signed there, retried while it is down)",
    },
    Variable {
        name: ENV_RECEIPT_NUMBER_BATCH,
        default: "64 on SQLite, 1 on PostgreSQL",
        secret: false,
        description: "receipt: at most this many concurrent receipts of one series share a transaction and one counter update (1 to 1000; 1 turns batching off)",
    },
    Variable {
        name: ENV_REPORTING_INTAKE_URL,
        default: "http://127.0.0.1:50051",
        secret: false,
        description: "reporting: URL of the intake service, whose event feed it follows",
    },
    Variable {
        name: ENV_REPORTING_SIGNING_URL,
        default: "http://127.0.0.1:50052",
        secret: false,
        description: "reporting: URL of the signing service, whose event feed it follows",
    },
    Variable {
        name: ENV_REPORTING_RECEIPT_URL,
        default: "http://127.0.0.1:50053",
        secret: false,
        description: "reporting: URL of the receipt service, whose event feed it follows",
    },
    Variable {
        name: ENV_REPORTING_INDEX_POINTS,
        default: "<the defaults of docs/api.md>",
        secret: false,
        description: "reporting: Decision 766 indicator points, code=points pairs (2.1=14,2.2=6); each group keeps its total",
    },
    Variable {
        name: ENV_SIGNING_KEY_ENCRYPTION_SECRET,
        default: "<development secret derived from the database URL, with a warning>",
        secret: true,
        description: "signing: password of the private keys kept as encrypted PKCS#8 (PBES2)",
    },
    Variable {
        name: ENV_SIGNING_LOG_ORIGIN,
        default: "motcua.example/signing-log",
        secret: false,
        description: "signing: origin line of the transparency log's checkpoints",
    },
    Variable {
        name: ENV_SIGNING_PKCS11_MODULE,
        default: "",
        secret: false,
        description: "signing: PKCS#11 module path; set, new ECDSA keys are made in the token",
    },
    Variable {
        name: ENV_SIGNING_PKCS11_TOKEN_LABEL,
        default: "motcua",
        secret: false,
        description: "signing: label of the PKCS#11 token",
    },
    Variable {
        name: ENV_SIGNING_PKCS11_PIN,
        default: "",
        secret: true,
        description: "signing: user PIN of the PKCS#11 token",
    },
    Variable {
        name: ENV_HEALTH_LISTEN_ADDR,
        default: "",
        secret: false,
        description: "address of a plaintext port serving grpc.health.v1 alone, for probes under mutual TLS",
    },
    Variable {
        name: ENV_TLS_CERT,
        default: "",
        secret: false,
        description: "path of the service's TLS certificate chain (PEM); with the key and client CA, mutual TLS",
    },
    Variable {
        name: ENV_TLS_KEY,
        default: "",
        secret: false,
        description: "path of the service's TLS private key (PEM)",
    },
    Variable {
        name: ENV_TLS_CLIENT_CA,
        default: "",
        secret: false,
        description: "path of the CA (PEM) issuing callers' client certificates",
    },
    Variable {
        name: ENV_TLS_CLIENT_CRL,
        default: "",
        secret: false,
        description: "path of the client CA's revocation lists (PEM); a revoked client certificate fails the handshake",
    },
    Variable {
        name: ENV_TLS_RELOAD_INTERVAL_MS,
        default: "5000",
        secret: false,
        description: "how often the TLS certificate, key, CA and CRL are re-read; changes apply to new connections",
    },
    Variable {
        name: ENV_DEV_IDENTITY,
        default: "false",
        secret: false,
        description: "development mode: plaintext on loopback, caller named by x-motcua-identity metadata",
    },
    Variable {
        name: ENV_POLICY_FILE,
        default: "<none: every call allowed in the development mode, refused otherwise>",
        secret: false,
        description: "policy file (YAML): RPCs, branches and procedures per identity; reloaded on change",
    },
    Variable {
        name: ENV_RATE_LIMIT_PER_IDENTITY,
        default: "200",
        secret: false,
        description: "requests a second per caller identity, twice that in a burst; more is RESOURCE_EXHAUSTED",
    },
    Variable {
        name: ENV_CONCURRENCY_PER_IDENTITY,
        default: "64",
        secret: false,
        description: "calls one caller identity may have open at once (a stream until it ends); more is refused",
    },
    Variable {
        name: ENV_OTEL_EXPORTER_OTLP_ENDPOINT,
        default: "",
        secret: false,
        description: "OTLP/gRPC collector endpoint; unset means no trace export",
    },
    Variable {
        name: ENV_OTEL_SERVICE_NAME,
        default: "motcua-<service>",
        secret: false,
        description: "service.name resource attribute",
    },
    Variable {
        name: ENV_OTEL_RESOURCE_ATTRIBUTES,
        default: "",
        secret: false,
        description: "extra resource attributes, key=value pairs separated by commas",
    },
];

/// A configuration value that could not be read.
#[derive(Debug, Error)]
#[error("{variable}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// The value found.
    pub value: String,
    /// What was expected.
    pub reason: &'static str,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, carrying trace_id and span_id.
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// The four services, with the defaults that differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// Procedure catalogue, dossiers and their lifecycle.
    Intake,
    /// Keys, certificates, signatures, seals and the transparency log.
    Signing,
    /// Receipts and acknowledgement slips.
    Receipt,
    /// Statistics and the service-quality index.
    Reporting,
}

impl ServiceKind {
    /// All four, in the order of their ports.
    pub const ALL: [ServiceKind; 4] = [Self::Intake, Self::Signing, Self::Receipt, Self::Reporting];

    /// The short name: `intake`, `signing`, `receipt`, `reporting`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Signing => "signing",
            Self::Receipt => "receipt",
            Self::Reporting => "reporting",
        }
    }

    /// The default gRPC port.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Intake => 50051,
            Self::Signing => 50052,
            Self::Receipt => 50053,
            Self::Reporting => 50054,
        }
    }

    /// The fully qualified name of the service's gRPC service, as reflection lists it.
    pub fn grpc_service_name(self) -> &'static str {
        match self {
            Self::Intake => "motcua.intake.v1.IntakeService",
            Self::Signing => "motcua.signing.v1.SigningService",
            Self::Receipt => "motcua.receipt.v1.ReceiptService",
            Self::Reporting => "motcua.reporting.v1.ReportingService",
        }
    }

    /// The `google.rpc.ErrorInfo` domain of the service's errors (`intake.motcua`).
    pub fn error_domain(self) -> &'static str {
        match self {
            Self::Intake => "intake.motcua",
            Self::Signing => "signing.motcua",
            Self::Receipt => "receipt.motcua",
            Self::Reporting => "reporting.motcua",
        }
    }
}

/// The configuration of one service, read from the environment.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Which service this is.
    pub kind: ServiceKind,
    /// Where to listen.
    pub listen_addr: SocketAddr,
    /// The database URL.
    pub database_url: String,
    /// Whether to migrate at start-up.
    pub migrate_on_start: bool,
    /// The most pooled database connections; `None` takes the backend's default.
    pub db_max_connections: Option<u32>,
    /// Requests handled at once before shedding.
    pub max_concurrent_requests: usize,
    /// The longest a request may run.
    pub request_timeout: Duration,
    /// The largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Time spent NOT_SERVING before the listener closes.
    pub shutdown_drain: Duration,
    /// Time in-flight requests get after the drain.
    pub shutdown_grace: Duration,
    /// Intake's seed folder, if the built-in seed files are replaced.
    pub intake_seed_dir: Option<PathBuf>,
    /// The plaintext health-only listener, if any.
    pub health_listen_addr: Option<SocketAddr>,
    /// Mutual TLS, when configured.
    pub tls: Option<TlsFiles>,
    /// Whether the development identity mode is on.
    pub dev_identity: bool,
    /// The policy file, if any.
    pub policy_file: Option<PathBuf>,
    /// Requests a second per caller identity.
    pub rate_limit_per_identity: u32,
    /// Calls one caller identity may have open at once.
    pub concurrency_per_identity: usize,
    /// How often the TLS files are checked for changes.
    pub tls_reload_interval: Duration,
    /// The values of the service-specific variables of [`VARIABLES`] that are set, by name, for a
    /// service to read into its own settings (see [`ServiceConfig::variable`]).
    pub service_variables: BTreeMap<&'static str, String>,
    /// The clock the service reads: the system's, or a manual one in tests (no variable sets it).
    pub clock: crate::clock::Clock,
}

impl ServiceConfig {
    /// Reads the configuration of `kind` from the process environment.
    pub fn from_env(kind: ServiceKind) -> Result<Self, ConfigError> {
        Self::from_lookup(kind, |name| std::env::var(name).ok())
    }

    /// Reads the configuration of `kind` from any lookup, so tests need not touch the environment.
    pub fn from_lookup(kind: ServiceKind, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let data_dir = get(ENV_DATA_DIR).unwrap_or_else(|| "data".to_owned());
        let listen_addr = match get(ENV_LISTEN_ADDR) {
            Some(value) => parse(ENV_LISTEN_ADDR, &value, "host:port")?,
            None => SocketAddr::from(([0, 0, 0, 0], kind.default_port())),
        };
        Ok(Self {
            kind,
            listen_addr,
            database_url: get(ENV_DATABASE_URL).unwrap_or_else(|| default_sqlite_url(&data_dir, kind)),
            migrate_on_start: parse_bool(ENV_MIGRATE_ON_START, get(ENV_MIGRATE_ON_START), true)?,
            db_max_connections: get(ENV_DB_MAX_CONNECTIONS)
                .map(|value| parse(ENV_DB_MAX_CONNECTIONS, &value, "a whole number"))
                .transpose()?,
            max_concurrent_requests: parse_or(&get, ENV_MAX_CONCURRENT_REQUESTS, 256, "a whole number")?,
            request_timeout: Duration::from_millis(parse_or(&get, ENV_REQUEST_TIMEOUT_MS, 30_000, "milliseconds")?),
            max_message_bytes: parse_or(&get, ENV_MAX_MESSAGE_BYTES, 4 * 1024 * 1024, "bytes")?,
            shutdown_drain: Duration::from_millis(parse_or(&get, ENV_SHUTDOWN_DRAIN_MS, 5_000, "milliseconds")?),
            shutdown_grace: Duration::from_millis(parse_or(&get, ENV_SHUTDOWN_GRACE_MS, 10_000, "milliseconds")?),
            intake_seed_dir: get(ENV_INTAKE_SEED_DIR).map(PathBuf::from),
            health_listen_addr: get(ENV_HEALTH_LISTEN_ADDR)
                .map(|value| parse(ENV_HEALTH_LISTEN_ADDR, &value, "host:port"))
                .transpose()?,
            tls: tls_files(&get)?,
            dev_identity: parse_bool(ENV_DEV_IDENTITY, get(ENV_DEV_IDENTITY), false)?,
            policy_file: get(ENV_POLICY_FILE).map(PathBuf::from),
            rate_limit_per_identity: parse_or(&get, ENV_RATE_LIMIT_PER_IDENTITY, 200, "requests a second")?,
            concurrency_per_identity: parse_positive(&get, ENV_CONCURRENCY_PER_IDENTITY, 64, "calls, at least 1")?,
            tls_reload_interval: Duration::from_millis(parse_positive(
                &get,
                ENV_TLS_RELOAD_INTERVAL_MS,
                5_000,
                "milliseconds, at least 1",
            )?),
            service_variables: VARIABLES
                .iter()
                .filter(|variable| variable.name.starts_with(&format!("MOTCUA_{}_", kind.name().to_uppercase())))
                .filter_map(|variable| get(variable.name).map(|value| (variable.name, value)))
                .collect(),
            clock: crate::clock::Clock::system(),
        })
    }

    /// A configuration for tests and `motcua up`: the given database, an ephemeral loopback port, and
    /// short shutdown times.
    pub fn for_local(kind: ServiceKind, database_url: impl Into<String>) -> Self {
        Self {
            kind,
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            migrate_on_start: true,
            db_max_connections: None,
            max_concurrent_requests: 256,
            request_timeout: Duration::from_secs(30),
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_drain: Duration::ZERO,
            shutdown_grace: Duration::from_secs(5),
            intake_seed_dir: None,
            health_listen_addr: None,
            tls: None,
            dev_identity: true,
            policy_file: None,
            rate_limit_per_identity: 100_000,
            concurrency_per_identity: 10_000,
            tls_reload_interval: Duration::from_secs(5),
            service_variables: BTreeMap::new(),
            clock: crate::clock::Clock::system(),
        }
    }

    /// The value of a service-specific variable (`MOTCUA_<SERVICE>_*`), when set and not blank.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.service_variables.get(name).map(String::as_str)
    }
}

/// The files of mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The service's certificate chain (PEM).
    pub cert: PathBuf,
    /// The service's private key (PEM).
    pub key: PathBuf,
    /// The CA of callers' client certificates (PEM).
    pub client_ca: PathBuf,
    /// The revocation lists of that CA (PEM), if any.
    pub client_crl: Option<PathBuf>,
}

fn tls_files(get: &impl Fn(&str) -> Option<String>) -> Result<Option<TlsFiles>, ConfigError> {
    let client_crl = get(ENV_TLS_CLIENT_CRL);
    match (get(ENV_TLS_CERT), get(ENV_TLS_KEY), get(ENV_TLS_CLIENT_CA)) {
        (None, None, None) => match client_crl {
            None => Ok(None),
            Some(value) => {
                Err(ConfigError { variable: ENV_TLS_CLIENT_CRL, value, reason: "a revocation list needs mutual TLS" })
            }
        },
        (Some(cert), Some(key), Some(client_ca)) => Ok(Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
            client_ca: client_ca.into(),
            client_crl: client_crl.map(PathBuf::from),
        })),
        _ => Err(ConfigError {
            variable: ENV_TLS_CERT,
            value: String::new(),
            reason: "MOTCUA_TLS_CERT, MOTCUA_TLS_KEY and MOTCUA_TLS_CLIENT_CA go together",
        }),
    }
}

/// The SQLite URL of `kind` under `data_dir`, created when missing.
pub fn default_sqlite_url(data_dir: &str, kind: ServiceKind) -> String {
    format!("sqlite://{data_dir}/{}.db?mode=rwc", kind.name())
}

/// Reads the log settings, which are process-wide rather than per service.
pub fn log_settings() -> Result<(LogFormat, String), ConfigError> {
    let format = match std::env::var(ENV_LOG_FORMAT).ok().as_deref().map(str::trim) {
        None | Some("") | Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some(other) => {
            return Err(ConfigError { variable: ENV_LOG_FORMAT, value: other.to_owned(), reason: "json or pretty" });
        }
    };
    let filter =
        std::env::var(ENV_LOG).ok().filter(|value| !value.trim().is_empty()).unwrap_or_else(|| "info".to_owned());
    Ok((format, filter))
}

fn parse<T: std::str::FromStr>(variable: &'static str, value: &str, reason: &'static str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError { variable, value: value.to_owned(), reason })
}

fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    reason: &'static str,
) -> Result<T, ConfigError> {
    get(variable).map_or(Ok(default), |value| parse(variable, &value, reason))
}

/// Like [`parse_or`], refusing zero.
fn parse_positive<T: std::str::FromStr + Default + PartialEq>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    reason: &'static str,
) -> Result<T, ConfigError> {
    let value = parse_or(get, variable, default, reason)?;
    if value == T::default() {
        return Err(ConfigError { variable, value: "0".to_owned(), reason });
    }
    Ok(value)
}

fn parse_bool(variable: &'static str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ConfigError { variable, value: other.to_owned(), reason: "true or false" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_one_machine() {
        let config = ServiceConfig::from_lookup(ServiceKind::Receipt, |_| None).expect("defaults are valid");
        assert_eq!(config.listen_addr.port(), 50053);
        assert_eq!(config.database_url, "sqlite://data/receipt.db?mode=rwc");
        assert!(config.migrate_on_start);
        assert_eq!(config.max_concurrent_requests, 256);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, |name| {
            (name == ENV_REQUEST_TIMEOUT_MS).then(|| "soon".to_owned())
        })
        .expect_err("a word is no number of milliseconds");
        assert_eq!(error.variable, ENV_REQUEST_TIMEOUT_MS);
    }

    #[test]
    fn a_service_sees_only_its_own_service_variables() {
        let lookup = |name: &str| (name == ENV_SIGNING_LOG_ORIGIN).then(|| "example.org/log".to_owned());
        let signing = ServiceConfig::from_lookup(ServiceKind::Signing, lookup).expect("valid");
        assert_eq!(signing.variable(ENV_SIGNING_LOG_ORIGIN), Some("example.org/log"));
        let receipt = ServiceConfig::from_lookup(ServiceKind::Receipt, lookup).expect("valid");
        assert_eq!(receipt.variable(ENV_SIGNING_LOG_ORIGIN), None);
    }

    #[test]
    fn a_revocation_list_comes_with_mutual_tls_and_limits_are_at_least_one() {
        let crl_alone = |name: &str| (name == ENV_TLS_CLIENT_CRL).then(|| "/etc/motcua/crl/client.crl".to_owned());
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, crl_alone).expect_err("no TLS to revoke in");
        assert_eq!(error.variable, ENV_TLS_CLIENT_CRL);
        let zero = |name: &str| (name == ENV_CONCURRENCY_PER_IDENTITY).then(|| "0".to_owned());
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, zero).expect_err("zero calls serves nobody");
        assert_eq!(error.variable, ENV_CONCURRENCY_PER_IDENTITY);
        let defaults = ServiceConfig::from_lookup(ServiceKind::Intake, |_| None).expect("defaults are valid");
        assert_eq!(defaults.concurrency_per_identity, 64);
        assert_eq!(defaults.tls_reload_interval, Duration::from_secs(5));
    }

    #[test]
    fn every_variable_constant_is_listed_once() {
        let mut names: Vec<_> = VARIABLES.iter().map(|variable| variable.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
    }
}
