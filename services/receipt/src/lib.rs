//! The receipt service: series of gap-free numbers, electronic fee receipts and acknowledgement slips,
//! their corrections, signatures (through signing, retried in the background), renderings, usage
//! reports, the citizen's lookup and the receipt event feed. `Receipt` is what the chassis runs, from
//! the binary, `motcua up` or a test.

pub mod api;
pub mod domain;
pub mod jobs;
pub mod migration;
pub mod peers;
pub mod render;
pub mod settings;
pub mod store;

use std::sync::Arc;

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::receipt::v1::receipt_service_server::ReceiptServiceServer;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tonic::service::Routes;

/// The receipt service, as the chassis runs it.
pub struct Receipt;

impl MotcuaService for Receipt {
    const KIND: ServiceKind = ServiceKind::Receipt;
    const VARIABLES: &'static [motcua_chassis::config::Variable] = settings::VARIABLES;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let feed = motcua_chassis::feed::Feed::start(db.clone()).await?;
        let settings = settings::ReceiptSettings::from_config(config, db.get_database_backend())?;
        let signing = peers::Signing::connect(config, &settings.signing_url)?;
        let signing_due = Arc::new(Notify::new());
        let numbering = store::numbering::Numbering::new(db.clone(), settings.number_batch);
        let state = Arc::new(api::ReceiptState {
            db: db.clone(),
            feed,
            signing_due: signing_due.clone(),
            signing,
            numbering,
            clock: config.clock.clone(),
            public_base_url: settings.public_base_url,
        });
        jobs::spawn(config, db, signing_due, Arc::downgrade(&state));
        let server =
            ReceiptServiceServer::new(api::ReceiptApi::new(state)).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
