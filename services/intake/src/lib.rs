//! The intake service: the procedure catalogue, branches, dossiers and their lifecycle, their
//! follow-ups (slips and fee receipts issued through receipt, in the background), and the intake event
//! feed. `Intake` is what the chassis runs, from the binary, `motcua up` or a test.

pub mod api;
pub mod domain;
pub mod jobs;
pub mod migration;
pub mod peers;
pub mod seed;
pub mod settings;
pub mod store;

use std::sync::Arc;

use anyhow::Context;
use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind, peer::receipt::ReceiptClient};
use motcua_proto::motcua::intake::v1::intake_service_server::IntakeServiceServer;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tonic::service::Routes;

/// How often start-up retries seeding when another replica seeds at the same moment.
const SEED_ATTEMPTS: u32 = 3;

/// The intake service, as the chassis runs it.
pub struct Intake;

impl MotcuaService for Intake {
    const KIND: ServiceKind = ServiceKind::Intake;
    const VARIABLES: &'static [motcua_chassis::config::Variable] = settings::VARIABLES;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let settings = settings::IntakeSettings::from_config(config)?;
        let seed = match &settings.seed_dir {
            Some(folder) => seed::Seed::from_folder(folder)?,
            None => seed::Seed::built_in()?,
        };
        apply_seed(&db, &seed, &config.clock).await?;
        let calendar = seed::holidays::from_folder_or_built_in(settings.seed_dir.as_deref())?;
        let feed = motcua_chassis::feed::Feed::start(db.clone()).await?;
        let signing = peers::Signing::connect(config, &settings.signing_url)?;
        let receipt = ReceiptClient::connect(config, settings::ENV_INTAKE_RECEIPT_URL, &settings.receipt_url)?;
        let follow_ups_due = Arc::new(Notify::new());
        let state = Arc::new(api::IntakeState {
            db: db.clone(),
            feed,
            calendar,
            applicant_index_key: settings.applicant_index_key,
            signing,
            receipt,
            collecting_tax_code: settings.collecting_tax_code,
            follow_ups_due: follow_ups_due.clone(),
            clock: config.clock.clone(),
            code_format: settings.code_format,
        });
        jobs::spawn(config, db, follow_ups_due, Arc::downgrade(&state));
        let server =
            IntakeServiceServer::new(api::IntakeApi::new(state)).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}

/// Applies the seed, retrying when a concurrent replica's identical seeding wins a unique-key race.
async fn apply_seed(
    db: &DatabaseConnection,
    seed: &seed::Seed,
    clock: &motcua_chassis::clock::Clock,
) -> anyhow::Result<()> {
    let mut attempt = 1;
    loop {
        match store::catalogue::apply_seed(db, seed, clock.now()).await {
            Ok(report) => {
                tracing::info!(
                    added = report.added,
                    new_versions = report.new_versions,
                    unchanged = report.unchanged,
                    branches = seed.branches.len(),
                    "catalogue seeded"
                );
                return Ok(());
            }
            Err(error) if attempt < SEED_ATTEMPTS => {
                tracing::warn!(%error, attempt, "seeding the catalogue failed; retrying");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(error) => return Err(error).context("seeding the catalogue"),
        }
    }
}
