//! Witnesses of the transparency log (C2SP tlog-witness, tlog-cosignature v1). Both sides live here:
//! signing acts as a witness of other deployments' logs ([`Witness`], served by [`api`]), and its own
//! log collects cosignatures from the witnesses it is configured with ([`collector`]) and publishes
//! a checkpoint once k of them cosigned it ([`published`]).

pub mod api;
pub mod collector;
pub mod consistency;
pub mod domain;
pub mod store;

use std::collections::BTreeMap;

use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
};
use motcua_chassis::{ServiceConfig, clock::Clock};
use rand_core::OsRng;
use sea_orm::{DatabaseConnection, DbErr};

use self::domain::{COSIGNATURE_V1, ED25519, VerifierKey};
use crate::{
    domain::checkpoint,
    keys::KeyEncryption,
    settings::{
        ENV_SIGNING_WITNESS_NAME, ENV_SIGNING_WITNESS_QUORUM, ENV_SIGNING_WITNESSED_LOGS, ENV_SIGNING_WITNESSES,
        VARIABLES,
    },
    store::entities::{checkpoint as checkpoint_row, witness_key},
};

/// The gRPC service of the witness, as the audit trail and reflection name it.
pub const SERVICE_NAME: &str = "motcua.signing.v1.WitnessService";

/// A witness of this log: where to submit checkpoints, and the key its cosignatures verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPeer {
    /// Its verifier key (signature type 0x04), which names it.
    pub key: VerifierKey,
    /// The URL of its signing service.
    pub url: String,
}

/// The witnessing settings, read from signing's variables. A value that does not read is kept as a
/// problem, which [`Settings::check`] reports at start-up.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// This deployment's witness name.
    pub name: String,
    /// The logs it witnesses, by their verifier keys (signature type 0x01).
    pub logs: Vec<VerifierKey>,
    /// The witnesses of this deployment's own log.
    pub witnesses: Vec<WitnessPeer>,
    /// How many of them must cosign a checkpoint before it is served; 0 serves it at once.
    pub quorum: usize,
    problems: Vec<String>,
}

fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|entry| !entry.is_empty())
}

impl Settings {
    /// The settings of `config`.
    pub fn from_config(config: &ServiceConfig) -> Self {
        let read = |name| config.variable_or_default(VARIABLES, name);
        let mut problems = Vec::new();
        let name = read(ENV_SIGNING_WITNESS_NAME).to_owned();
        if !checkpoint::is_valid_key_name(&name) {
            problems.push(format!("{ENV_SIGNING_WITNESS_NAME}: {name:?} is not a key name (no spaces, no '+')"));
        }
        let mut logs = Vec::new();
        for entry in entries(read(ENV_SIGNING_WITNESSED_LOGS)) {
            match VerifierKey::parse(entry) {
                Ok(key) if key.algorithm == ED25519 => logs.push(key),
                Ok(_) => problems.push(format!("{ENV_SIGNING_WITNESSED_LOGS}: {entry:?} is not a log's key (0x01)")),
                Err(error) => problems.push(format!("{ENV_SIGNING_WITNESSED_LOGS}: {entry:?}: {error}")),
            }
        }
        let mut witnesses = Vec::new();
        for entry in entries(read(ENV_SIGNING_WITNESSES)) {
            let Some((key, url)) = entry.rsplit_once('@') else {
                problems.push(format!("{ENV_SIGNING_WITNESSES}: {entry:?} is not <verifier key>@<URL>"));
                continue;
            };
            match VerifierKey::parse(key) {
                Ok(key) if key.algorithm == COSIGNATURE_V1 => {
                    witnesses.push(WitnessPeer { key, url: url.to_owned() });
                }
                Ok(_) => problems.push(format!("{ENV_SIGNING_WITNESSES}: {key:?} is not a cosigner's key (0x04)")),
                Err(error) => problems.push(format!("{ENV_SIGNING_WITNESSES}: {key:?}: {error}")),
            }
        }
        let quorum_text = read(ENV_SIGNING_WITNESS_QUORUM);
        let quorum = quorum_text.parse().unwrap_or_else(|_| {
            problems.push(format!("{ENV_SIGNING_WITNESS_QUORUM}: {quorum_text:?} is not a count"));
            0
        });
        if quorum > witnesses.len() {
            problems.push(format!(
                "{ENV_SIGNING_WITNESS_QUORUM}: {quorum} cosignatures asked of {} witnesses",
                witnesses.len()
            ));
        }
        Self { name, logs, witnesses, quorum, problems }
    }

    /// Every problem of the configured values, for start-up to stop on.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.problems.is_empty(), "witness settings: {}", self.problems.join("; "));
        Ok(())
    }

    /// The names of this log's witnesses.
    pub fn witness_names(&self) -> Vec<String> {
        self.witnesses.iter().map(|witness| witness.key.name.clone()).collect()
    }
}

/// This deployment as a witness: its key and the logs it trusts, by origin.
pub struct Witness {
    db: DatabaseConnection,
    name: String,
    key: SigningKey,
    logs: BTreeMap<String, VerifierKey>,
    clock: Clock,
}

impl Witness {
    /// Opens the witness in `db`, making its key on first start, kept like the log's.
    pub async fn open(
        db: DatabaseConnection,
        settings: &Settings,
        encryption: &KeyEncryption,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let row = store::witness_key(&db, || {
            let key = SigningKey::generate(&mut OsRng);
            let der = key.to_pkcs8_der().map_err(|error| DbErr::Custom(error.to_string()))?;
            let encrypted_key = encryption.encrypt(der.as_bytes()).map_err(|error| DbErr::Custom(error.to_string()))?;
            Ok(witness_key::Model { id: 1, encrypted_key, public_key: key.verifying_key().as_bytes().to_vec() })
        })
        .await?;
        let der = encryption.decrypt(&row.encrypted_key)?;
        let key =
            SigningKey::from_pkcs8_der(der.as_bytes()).map_err(|error| anyhow::anyhow!("the witness key: {error}"))?;
        let logs = settings.logs.iter().map(|log| (log.name.clone(), log.clone())).collect();
        Ok(Self { db, name: settings.name.clone(), key, logs, clock })
    }

    /// The verifier key a log configures for this witness.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::new(&self.name, COSIGNATURE_V1, self.key.verifying_key())
    }
}

/// The checkpoint `GetCheckpoint` serves: the latest one with at least `settings.quorum` valid
/// cosignatures of the configured witnesses (with a quorum of 0, the latest one), and its note with
/// those cosignature lines appended. `None` while no checkpoint has enough.
pub async fn published(
    db: &DatabaseConnection,
    settings: &Settings,
) -> Result<Option<(checkpoint_row::Model, String)>, DbErr> {
    let Some((row, cosignatures)) = store::cosigned_checkpoint(db, &settings.witness_names(), settings.quorum).await?
    else {
        return Ok(None);
    };
    let Ok(parsed) = checkpoint::parse(&row.note) else { return Ok(None) };
    let room = checkpoint::MAX_SIGNATURES.saturating_sub(parsed.signatures.len());
    let mut note = row.note.clone();
    let mut valid = 0;
    for cosignature in &cosignatures {
        // Checked again against the stored note: a cosignature of another text at this size is none.
        let verifies = settings.witnesses.iter().any(|witness| {
            checkpoint::parse(&format!("{}{}", row.note, cosignature.signature_line)).is_ok_and(|cosigned| {
                cosigned
                    .signatures
                    .last()
                    .and_then(|line| domain::verify_cosignature(&witness.key, line, &parsed.text))
                    .is_some()
            })
        });
        if verifies && valid < room {
            note.push_str(&cosignature.signature_line);
            valid += 1;
        }
    }
    if valid < settings.quorum {
        tracing::error!(tree_size = row.tree_size, "stored cosignatures no longer verify over the stored checkpoint");
        return Ok(None);
    }
    Ok(Some((row, note)))
}
