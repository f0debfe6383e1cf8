//! The receipt service: gap-free electronic receipts and acknowledgement slips. Today it starts, migrates its own database and serves health and
//! reflection; its business RPCs answer UNIMPLEMENTED until the receipt issue lands.

pub mod api;
pub mod migration;

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::receipt::v1::receipt_service_server::ReceiptServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// The receipt service, as the chassis runs it.
pub struct Receipt;

impl MotcuaService for Receipt {
    const KIND: ServiceKind = ServiceKind::Receipt;
    type Migrator = migration::Migrator;

    async fn routes(config: &ServiceConfig, _db: DatabaseConnection) -> anyhow::Result<Routes> {
        let server = ReceiptServiceServer::new(api::ReceiptApi).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
