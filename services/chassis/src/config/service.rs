//! The configuration of one service, read once at start-up from the chassis's variables and the
//! service's own list, with one constructor for tests and `motcua up`.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use super::{
    ConfigError, ENV_CONCURRENCY_PER_IDENTITY, ENV_DATA_DIR, ENV_DATABASE_URL, ENV_DB_MAX_CONNECTIONS,
    ENV_DEV_IDENTITY, ENV_HEALTH_LISTEN_ADDR, ENV_LISTEN_ADDR, ENV_MAX_CONCURRENT_REQUESTS, ENV_MAX_MESSAGE_BYTES,
    ENV_MIGRATE_ON_START, ENV_POLICY_FILE, ENV_RATE_LIMIT_PER_IDENTITY, ENV_REQUEST_TIMEOUT_MS, ENV_SHUTDOWN_DRAIN_MS,
    ENV_SHUTDOWN_GRACE_MS, ENV_TLS_CERT, ENV_TLS_CLIENT_CA, ENV_TLS_CLIENT_CRL, ENV_TLS_KEY,
    ENV_TLS_RELOAD_INTERVAL_MS, ServiceKind, Variable, default_of, parse, read, read_bool, read_positive, read_text,
};
use crate::clock::Clock;

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
    /// The values of the service's own variables (its settings module's list) that are set, by name,
    /// for the service to read into its settings (see [`ServiceConfig::variable`]).
    pub service_variables: BTreeMap<&'static str, String>,
    /// How background jobs are retried and leased.
    pub jobs: crate::jobs::JobSettings,
    /// The clock the service reads: the system's, or a manual one in tests (no variable sets it).
    pub clock: Clock,
}

impl ServiceConfig {
    /// Reads the configuration of `kind`, whose own variables are `own`, from the process environment.
    pub fn from_env(kind: ServiceKind, own: &'static [Variable]) -> Result<Self, ConfigError> {
        Self::from_lookup(kind, own, |name| std::env::var(name).ok())
    }

    /// Reads the configuration from any lookup, so tests need not touch the environment.
    pub fn from_lookup(
        kind: ServiceKind,
        own: &'static [Variable],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let listen_addr = match get(ENV_LISTEN_ADDR) {
            Some(value) => parse(ENV_LISTEN_ADDR, &value, "host:port")?,
            None => SocketAddr::from(([0, 0, 0, 0], kind.default_port())),
        };
        let milliseconds = |variable| read(&get, variable, "milliseconds").map(Duration::from_millis);
        Ok(Self {
            kind,
            listen_addr,
            database_url: get(ENV_DATABASE_URL)
                .unwrap_or_else(|| default_sqlite_url(&read_text(&get, ENV_DATA_DIR), kind)),
            migrate_on_start: read_bool(&get, ENV_MIGRATE_ON_START)?,
            db_max_connections: get(ENV_DB_MAX_CONNECTIONS)
                .map(|value| parse(ENV_DB_MAX_CONNECTIONS, &value, "a whole number"))
                .transpose()?,
            max_concurrent_requests: read(&get, ENV_MAX_CONCURRENT_REQUESTS, "a whole number")?,
            request_timeout: milliseconds(ENV_REQUEST_TIMEOUT_MS)?,
            max_message_bytes: read(&get, ENV_MAX_MESSAGE_BYTES, "bytes")?,
            shutdown_drain: milliseconds(ENV_SHUTDOWN_DRAIN_MS)?,
            shutdown_grace: milliseconds(ENV_SHUTDOWN_GRACE_MS)?,
            health_listen_addr: get(ENV_HEALTH_LISTEN_ADDR)
                .map(|value| parse(ENV_HEALTH_LISTEN_ADDR, &value, "host:port"))
                .transpose()?,
            tls: tls_files(&get)?,
            dev_identity: read_bool(&get, ENV_DEV_IDENTITY)?,
            policy_file: get(ENV_POLICY_FILE).map(PathBuf::from),
            rate_limit_per_identity: read(&get, ENV_RATE_LIMIT_PER_IDENTITY, "requests a second")?,
            concurrency_per_identity: read_positive(&get, ENV_CONCURRENCY_PER_IDENTITY, "calls, at least 1")?,
            tls_reload_interval: Duration::from_millis(read_positive(
                &get,
                ENV_TLS_RELOAD_INTERVAL_MS,
                "milliseconds, at least 1",
            )?),
            service_variables: own
                .iter()
                .filter_map(|variable| get(variable.name).map(|value| (variable.name, value)))
                .collect(),
            jobs: job_settings(&get)?,
            clock: Clock::system(),
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
            health_listen_addr: None,
            tls: None,
            dev_identity: true,
            policy_file: None,
            rate_limit_per_identity: 100_000,
            concurrency_per_identity: 10_000,
            tls_reload_interval: Duration::from_secs(5),
            service_variables: BTreeMap::new(),
            clock: Clock::system(),
            jobs: crate::jobs::JobSettings::default(),
        }
    }

    /// The value of one of the service's own variables, when set and not blank.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.service_variables.get(name).map(String::as_str)
    }

    /// The value of one of the service's own variables, or its default in `own` (the service's list).
    pub fn variable_or_default<'a>(&'a self, own: &[Variable], name: &str) -> &'a str {
        self.variable(name).unwrap_or_else(|| default_of(own, name))
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

fn job_settings(get: &impl Fn(&str) -> Option<String>) -> Result<crate::jobs::JobSettings, ConfigError> {
    let milliseconds = |variable| read_positive(get, variable, "milliseconds, at least 1").map(Duration::from_millis);
    Ok(crate::jobs::JobSettings {
        max_attempts: read_positive(get, super::ENV_JOBS_MAX_ATTEMPTS, "attempts, at least 1")?,
        first_backoff: milliseconds(super::ENV_JOBS_FIRST_BACKOFF_MS)?,
        max_backoff: milliseconds(super::ENV_JOBS_MAX_BACKOFF_MS)?,
        lease: milliseconds(super::ENV_JOBS_LEASE_MS)?,
    })
}

/// The SQLite URL of `kind` under `data_dir`, created when missing.
pub fn default_sqlite_url(data_dir: &str, kind: ServiceKind) -> String {
    format!("sqlite://{data_dir}/{}.db?mode=rwc", kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::VARIABLES;

    const OWN: &[Variable] = &[Variable {
        name: "MOTCUA_RECEIPT_EXAMPLE",
        default: "example default",
        secret: false,
        description: "receipt: a variable of the service's own list",
    }];

    #[test]
    fn defaults_run_on_one_machine() {
        let config = ServiceConfig::from_lookup(ServiceKind::Receipt, OWN, |_| None).expect("defaults are valid");
        assert_eq!(config.listen_addr.port(), 50053);
        assert_eq!(config.database_url, "sqlite://data/receipt.db?mode=rwc");
        assert!(config.migrate_on_start);
        assert!(!config.dev_identity);
        assert_eq!(config.max_concurrent_requests, 256);
        assert_eq!(config.request_timeout, Duration::from_secs(30));
        assert_eq!(config.concurrency_per_identity, 64);
        assert_eq!(config.tls_reload_interval, Duration::from_secs(5));
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, &[], |name| {
            (name == ENV_REQUEST_TIMEOUT_MS).then(|| "soon".to_owned())
        })
        .expect_err("a word is no number of milliseconds");
        assert_eq!(error.variable, ENV_REQUEST_TIMEOUT_MS);
    }

    #[test]
    fn a_service_sees_only_its_own_variables_and_falls_back_to_their_listed_defaults() {
        let lookup = |name: &str| (name == OWN[0].name).then(|| "set".to_owned());
        let own = ServiceConfig::from_lookup(ServiceKind::Receipt, OWN, lookup).expect("valid");
        assert_eq!(own.variable(OWN[0].name), Some("set"));
        let other = ServiceConfig::from_lookup(ServiceKind::Signing, &[], lookup).expect("valid");
        assert_eq!(other.variable(OWN[0].name), None);
        let unset = ServiceConfig::from_lookup(ServiceKind::Receipt, OWN, |_| None).expect("valid");
        assert_eq!(unset.variable_or_default(OWN, OWN[0].name), "example default");
    }

    #[test]
    fn a_revocation_list_comes_with_mutual_tls_and_limits_are_at_least_one() {
        let crl_alone = |name: &str| (name == ENV_TLS_CLIENT_CRL).then(|| "/etc/motcua/crl/client.crl".to_owned());
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, &[], crl_alone).expect_err("no TLS to revoke in");
        assert_eq!(error.variable, ENV_TLS_CLIENT_CRL);
        let zero = |name: &str| (name == ENV_CONCURRENCY_PER_IDENTITY).then(|| "0".to_owned());
        let error = ServiceConfig::from_lookup(ServiceKind::Intake, &[], zero).expect_err("zero calls serves nobody");
        assert_eq!(error.variable, ENV_CONCURRENCY_PER_IDENTITY);
    }

    #[test]
    fn every_shared_variable_is_listed_once_and_none_belongs_to_one_service() {
        let mut names: Vec<_> = VARIABLES.iter().map(|variable| variable.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
        for kind in ServiceKind::ALL {
            let prefix = format!("MOTCUA_{}_", kind.name().to_uppercase());
            assert!(
                names.iter().all(|name| !name.starts_with(&prefix)),
                "{prefix}* belongs in {}'s settings",
                kind.name()
            );
        }
    }
}
