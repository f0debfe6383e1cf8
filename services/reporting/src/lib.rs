//! The reporting service: statistics and the Decision 766 service-quality index. Today it starts, migrates its own database and serves health and
//! reflection; its business RPCs answer UNIMPLEMENTED until the reporting issue lands.

pub mod api;
pub mod migration;

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::reporting::v1::reporting_service_server::ReportingServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// The reporting service, as the chassis runs it.
pub struct Reporting;

impl MotcuaService for Reporting {
    const KIND: ServiceKind = ServiceKind::Reporting;
    type Migrator = migration::Migrator;

    async fn routes(config: &ServiceConfig, _db: DatabaseConnection) -> anyhow::Result<Routes> {
        let server = ReportingServiceServer::new(api::ReportingApi).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
