//! The signing service: a certificate authority per deployment, keys encrypted at rest, CMS signatures
//! (CAdES-BES) by officers and branch seals, their verification and revocation, a transparency log in
//! the C2SP formats, and the signing event feed. `Signing` is what the chassis runs, from the binary,
//! `motcua up` or a test.

pub mod api;
pub mod auditor;
pub mod batcher;
pub mod cache;
pub mod domain;
pub mod jobs;
pub mod keys;
pub mod migration;
pub mod settings;
pub mod store;
pub mod transparency;
pub mod witness;

use std::sync::Arc;

use anyhow::Context;
use motcua_chassis::{MotcuaService, ServiceConfig, ServiceKind, feed::Feed};
use motcua_proto::motcua::signing::v1::{
    signing_service_server::SigningServiceServer, witness_service_server::WitnessServiceServer,
};
use sea_orm::DatabaseConnection;
use tonic::service::Routes;

use crate::{
    keys::{KeyEncryption, KeyRing},
    settings::SigningSettings,
    transparency::TransparencyLog,
};

/// The signing service, as the chassis runs it.
pub struct Signing;

impl MotcuaService for Signing {
    const KIND: ServiceKind = ServiceKind::Signing;
    const VARIABLES: &'static [motcua_chassis::config::Variable] = settings::VARIABLES;
    type Migrator = migration::Migrator;
    const AUDIT: motcua_chassis::audit::Classification = api::audit::AUDIT;
    const MORE_SERVICES: &'static [(&'static str, motcua_chassis::audit::Classification)] =
        &[(witness::SERVICE_NAME, witness::api::AUDIT)];

    async fn routes(config: &ServiceConfig, db: DatabaseConnection) -> anyhow::Result<Routes> {
        let settings = SigningSettings::from_config(config);
        settings.witnessing.check()?;
        if settings.development_secret {
            tracing::warn!(
                variable = settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET,
                "DEVELOPMENT DEFAULT: no key-encryption secret is configured, so signing derives one from the \
                 database URL. Keys at rest are then as safe as that URL. Never run this way in production."
            );
        }
        let encryption = KeyEncryption::new(settings.key_encryption_secret.clone());
        let log = Arc::new(
            TransparencyLog::open(db.clone(), settings.log_origin.clone(), &encryption, config.clock.clone())
                .await
                .context("opening the transparency log")?,
        );
        jobs::spawn_checkpointer(&log);
        jobs::spawn_auditor(&log);
        let witness = witness::Witness::open(db.clone(), &settings.witnessing, &encryption, config.clock.clone())
            .await
            .context("opening the witness")?;
        witness::collector::spawn(config, &settings.witnessing, db.clone(), &log)?;
        let token = match &settings.pkcs11 {
            Some(pkcs11) => {
                let pkcs11 = pkcs11.clone();
                let token = tokio::task::spawn_blocking(move || {
                    keys::pkcs11::Token::open(&pkcs11.module, &pkcs11.token_label, &pkcs11.pin)
                })
                .await?
                .context("opening the PKCS#11 token")?;
                tracing::info!("new ECDSA keys are made in the PKCS#11 token");
                Some(Arc::new(token))
            }
            None => None,
        };
        let feed = Feed::start(db.clone()).await.context("starting the event feed")?;
        let batch = settings::batch_limits(config)?;
        let api =
            api::SigningApi::new(db, KeyRing::new(encryption, token), feed, log, settings, config.clock.clone(), batch);
        let server = SigningServiceServer::new(api).max_decoding_message_size(config.max_message_bytes);
        let witness = WitnessServiceServer::new(witness::api::WitnessApi::new(Arc::new(witness)))
            .max_decoding_message_size(config.max_message_bytes);
        Ok(Routes::new(server).add_service(witness))
    }
}
