//! The reporting service: followers of the intake, signing and receipt feeds that keep rollups by day
//! × branch × procedure × level × channel (each event counted exactly once), and the queries over them —
//! summaries, per-branch statistics, the Decision 766 index, CSV exports, the ingestion status and the
//! rebuild. `Reporting` is what the chassis runs, from the binary, `motcua up` or a test.

pub mod api;
pub mod branch_names;
pub mod domain;
pub mod feeds;
pub mod jobs;
pub mod migration;
pub mod settings;
pub mod store;

use std::{collections::HashMap, sync::Arc};

use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind, peer};
use motcua_proto::motcua::{
    intake::v1::intake_service_client::IntakeServiceClient, receipt::v1::receipt_service_client::ReceiptServiceClient,
    reporting::v1::reporting_service_server::ReportingServiceServer,
    signing::v1::signing_service_client::SigningServiceClient,
};
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

/// The reporting service, as the chassis runs it.
pub struct Reporting;

impl MotcuaService for Reporting {
    const KIND: ServiceKind = ServiceKind::Reporting;
    const VARIABLES: &'static [motcua_chassis::config::Variable] = settings::VARIABLES;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let settings::ReportingSettings { source_urls: urls, weights } =
            settings::ReportingSettings::from_config(config)?;
        let sources = feeds::Sources {
            intake: IntakeServiceClient::new(peer::connect_as(config, &urls[0])?),
            signing: SigningServiceClient::new(peer::connect_as(config, &urls[1])?),
            receipt: ReceiptServiceClient::new(peer::connect_as(config, &urls[2])?),
            urls,
        };
        let branch_names = branch_names::BranchNames::new(
            sources.intake.clone(),
            sources.url(feeds::FeedName::Intake).to_owned(),
            config.clock.clone(),
        );
        let jobs = Arc::new(jobs::Jobs {
            db,
            sources,
            holder: format!("reporting-{}", uuid::Uuid::new_v4().simple()),
            status: std::sync::Mutex::new(HashMap::new()),
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        jobs::spawn_followers(&jobs);
        let state = Arc::new(api::ReportingState { jobs, weights, branch_names, clock: config.clock.clone() });
        let server = ReportingServiceServer::new(api::ReportingApi::new(state))
            .max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server))
    }
}
