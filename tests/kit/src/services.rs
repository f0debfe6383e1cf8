//! The four services started for a test as they are deployed: signing with a key-encryption secret,
//! intake and receipt calling a signing service, reporting following the three sources; and a second
//! database on the backend of the first.

use std::net::SocketAddr;

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    server::RunningServer,
    testing::{TestDatabase, start_service_with},
};
use motcua_intake::settings::ENV_INTAKE_SIGNING_URL;
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;
use motcua_reporting::settings::{ENV_REPORTING_INTAKE_URL, ENV_REPORTING_RECEIPT_URL, ENV_REPORTING_SIGNING_URL};
use motcua_signing::settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET;

/// A URL nothing listens at: the peer is down for the test.
pub const UNREACHABLE: &str = "http://127.0.0.1:9";

/// The key-encryption secret signing is given in tests; the same database and secret give the same
/// signers after a restart.
pub const TEST_SECRET: &str = "test key-encryption secret, long and random in production";

/// The plaintext URL of `server`, as a peer dials it.
pub fn url_of(server: &RunningServer) -> String {
    format!("http://{}", server.local_addr)
}

/// Signing on `database` with [`TEST_SECRET`].
pub fn signing_config(database: &TestDatabase) -> ServiceConfig {
    let mut config = ServiceConfig::for_local(ServiceKind::Signing, database.url.clone());
    config.service_variables.insert(ENV_SIGNING_KEY_ENCRYPTION_SECRET, TEST_SECRET.to_owned());
    config
}

/// Starts signing on `database` with [`TEST_SECRET`].
pub async fn start_signing(database: &TestDatabase) -> RunningServer {
    start_service_with::<motcua_signing::Signing>(signing_config(database)).await
}

/// Starts signing on `database` with [`TEST_SECRET`] at `listen_addr`: a signing that comes back
/// where its peers expect it, with the same signers.
pub async fn start_signing_at(database: &TestDatabase, listen_addr: SocketAddr) -> RunningServer {
    let mut config = signing_config(database);
    config.listen_addr = listen_addr;
    start_service_with::<motcua_signing::Signing>(config).await
}

/// Intake on `database`, calling signing at `signing_url`.
pub fn intake_config(database: &TestDatabase, signing_url: &str) -> ServiceConfig {
    let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
    config.service_variables.insert(ENV_INTAKE_SIGNING_URL, signing_url.to_owned());
    config
}

/// Starts intake on `database`, calling signing at `signing_url`.
pub async fn start_intake(database: &TestDatabase, signing_url: &str) -> RunningServer {
    start_service_with::<motcua_intake::Intake>(intake_config(database, signing_url)).await
}

/// Receipt on `database`, calling signing at `signing_url`.
pub fn receipt_config(database: &TestDatabase, signing_url: &str) -> ServiceConfig {
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, signing_url.to_owned());
    config
}

/// Starts receipt on `database`, calling signing at `signing_url`.
pub async fn start_receipt(database: &TestDatabase, signing_url: &str) -> RunningServer {
    start_service_with::<motcua_receipt::Receipt>(receipt_config(database, signing_url)).await
}

/// The feeds reporting follows, by URL.
pub struct Sources<'a> {
    /// Intake's URL.
    pub intake: &'a str,
    /// Signing's URL.
    pub signing: &'a str,
    /// Receipt's URL.
    pub receipt: &'a str,
}

impl Sources<'static> {
    /// Every source down.
    pub const UNREACHABLE: Self = Self { intake: UNREACHABLE, signing: UNREACHABLE, receipt: UNREACHABLE };
}

/// Reporting on `database`, following `sources`.
pub fn reporting_config(database: &TestDatabase, sources: &Sources<'_>) -> ServiceConfig {
    let mut config = ServiceConfig::for_local(ServiceKind::Reporting, database.url.clone());
    for (variable, url) in [
        (ENV_REPORTING_INTAKE_URL, sources.intake),
        (ENV_REPORTING_SIGNING_URL, sources.signing),
        (ENV_REPORTING_RECEIPT_URL, sources.receipt),
    ] {
        config.service_variables.insert(variable, url.to_owned());
    }
    config
}

/// Another empty database on the backend of `database`: a second deployment that shares nothing
/// with the first.
pub async fn another_database(database: &TestDatabase) -> TestDatabase {
    match database.backend {
        "postgres" => TestDatabase::postgres().await.expect("PostgreSQL answered a moment ago"),
        _ => TestDatabase::sqlite(),
    }
}
