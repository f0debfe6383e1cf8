//! The intake service: the procedure catalogue, branches, and (as their issues land) dossiers and
//! their lifecycle. `Intake` is what the chassis runs, from the binary, `motcua up` or a test.

pub mod api;
pub mod domain;
pub mod migration;
pub mod seed;
pub mod store;

use anyhow::Context;
use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::intake::v1::intake_service_server::IntakeServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// How often start-up retries seeding when another replica seeds at the same moment.
const SEED_ATTEMPTS: u32 = 3;

/// The intake service, as the chassis runs it.
pub struct Intake;

impl MotcuaService for Intake {
    const KIND: ServiceKind = ServiceKind::Intake;
    type Migrator = migration::Migrator;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let seed = match &config.intake_seed_dir {
            Some(folder) => seed::Seed::from_folder(folder)?,
            None => seed::Seed::built_in()?,
        };
        apply_seed(&db, &seed).await?;
        let server =
            IntakeServiceServer::new(api::IntakeApi::new(db)).max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}

/// Applies the seed, retrying when a concurrent replica's identical seeding wins a unique-key race.
async fn apply_seed(db: &DatabaseConnection, seed: &seed::Seed) -> anyhow::Result<()> {
    let mut attempt = 1;
    loop {
        match store::catalogue::apply_seed(db, seed, chrono::Utc::now()).await {
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
