//! The signing service: keys, certificates, CMS signatures, approval and seal, and the transparency log. Today it starts, migrates its own database and serves health and
//! reflection; its business RPCs answer UNIMPLEMENTED until the signing issue lands.

pub mod api;
pub mod migration;

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::signing::v1::signing_service_server::SigningServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// The signing service, as the chassis runs it.
pub struct Signing;

impl MotcuaService for Signing {
    const KIND: ServiceKind = ServiceKind::Signing;
    type Migrator = migration::Migrator;

    async fn routes(config: &ServiceConfig, _db: DatabaseConnection) -> anyhow::Result<Routes> {
        let server = SigningServiceServer::new(api::SigningApi).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
