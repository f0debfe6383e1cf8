//! The intake service: the procedure catalogue, branches, dossiers and their lifecycle, and the
//! intake event feed. `Intake` is what the chassis runs, from the binary, `motcua up` or a test.

pub mod api;
pub mod domain;
pub mod migration;
pub mod peers;
pub mod seed;
pub mod store;

use anyhow::Context;
use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind};
use motcua_proto::motcua::intake::v1::intake_service_server::IntakeServiceServer;
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// Where signing listens on one machine.
const DEFAULT_SIGNING_URL: &str = "http://127.0.0.1:50052";

/// The applicant index key of a development run (`make run`, tests): public, so never for real data.
const DEVELOPMENT_APPLICANT_INDEX_KEY: &[u8] = b"motcua development applicant index key";

/// How often start-up retries seeding when another replica seeds at the same moment.
const SEED_ATTEMPTS: u32 = 3;

/// The intake service, as the chassis runs it.
pub struct Intake;

impl MotcuaService for Intake {
    const KIND: ServiceKind = ServiceKind::Intake;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let seed = match &config.intake_seed_dir {
            Some(folder) => seed::Seed::from_folder(folder)?,
            None => seed::Seed::built_in()?,
        };
        apply_seed(&db, &seed).await?;
        let calendar = seed::holidays::from_folder_or_built_in(config.intake_seed_dir.as_deref())?;
        let applicant_index_key = match config.variable(motcua_chassis::config::ENV_INTAKE_APPLICANT_INDEX_KEY) {
            Some(key) => key.as_bytes().to_vec(),
            None => {
                tracing::warn!(
                    variable = motcua_chassis::config::ENV_INTAKE_APPLICANT_INDEX_KEY,
                    "no applicant index key is set: using the DEVELOPMENT key, which anyone can read in the source; set one in production"
                );
                DEVELOPMENT_APPLICANT_INDEX_KEY.to_vec()
            }
        };
        let feed = motcua_chassis::feed::Feed::start(db.clone()).await?;
        let signing_url =
            config.variable(motcua_chassis::config::ENV_INTAKE_SIGNING_URL).unwrap_or(DEFAULT_SIGNING_URL);
        let signing = peers::Signing::connect(config, signing_url)?;
        let template = config
            .variable(motcua_chassis::config::ENV_INTAKE_DOSSIER_CODE_FORMAT)
            .unwrap_or(domain::dossier_code::DEFAULT_TEMPLATE);
        let code_format = domain::dossier_code::CodeFormat::parse_template(template)
            .with_context(|| format!("{} is not valid", motcua_chassis::config::ENV_INTAKE_DOSSIER_CODE_FORMAT))?;
        let state = api::IntakeState {
            db,
            feed,
            calendar,
            applicant_index_key,
            signing,
            clock: config.clock.clone(),
            code_format,
        };
        let server =
            IntakeServiceServer::new(api::IntakeApi::new(state)).max_decoding_message_size(config.max_message_bytes);
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
