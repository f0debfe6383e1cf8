//! What reporting's tests share: reporting started with every source it follows down, so that only
//! what a test sends reaches it.

use motcua_chassis::server::RunningServer;
use motcua_testkit::{
    TestDatabase,
    services::{Sources, reporting_config},
    start_service_with,
};

/// Reporting on `database`, its three sources unreachable.
pub async fn start_with_sources_down(database: &TestDatabase) -> RunningServer {
    start_service_with::<motcua_reporting::Reporting>(reporting_config(database, &Sources::UNREACHABLE)).await
}
