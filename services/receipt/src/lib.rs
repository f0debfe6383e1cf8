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
pub mod store;

use std::sync::Arc;

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::receipt::v1::receipt_service_server::ReceiptServiceServer;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tonic::service::Routes;

/// Where signing listens on one machine.
pub const DEFAULT_SIGNING_URL: &str = "http://127.0.0.1:50052";

/// The receipt service, as the chassis runs it.
pub struct Receipt;

impl MotcuaService for Receipt {
    const KIND: ServiceKind = ServiceKind::Receipt;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let feed = motcua_chassis::feed::Feed::start(db.clone()).await?;
        let signing_url =
            config.variable(motcua_chassis::config::ENV_RECEIPT_SIGNING_URL).unwrap_or(DEFAULT_SIGNING_URL);
        let signing = peers::Signing::connect(config, signing_url)?;
        let signing_due = Arc::new(Notify::new());
        let batch = match config.variable(motcua_chassis::config::ENV_RECEIPT_NUMBER_BATCH) {
            None => store::numbering::default_batch(db.get_database_backend()),
            Some(value) => value
                .parse::<usize>()
                .ok()
                .filter(|batch| (1..=store::numbering::MAX_BATCH).contains(batch))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} must be a whole number from 1 to {}, not {value:?}",
                        motcua_chassis::config::ENV_RECEIPT_NUMBER_BATCH,
                        store::numbering::MAX_BATCH
                    )
                })?,
        };
        let numbering = store::numbering::Numbering::new(db.clone(), batch);
        let state = Arc::new(api::ReceiptState { db, feed, signing_due: signing_due.clone(), signing, numbering });
        jobs::spawn_signing(Arc::downgrade(&state), signing_due);
        let server =
            ReceiptServiceServer::new(api::ReceiptApi::new(state)).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
