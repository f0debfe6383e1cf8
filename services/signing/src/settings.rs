//! Signing's own settings, read from its `MOTCUA_SIGNING_*` variables (declared here, once), with
//! defaults that run on one machine.

use motcua_chassis::ServiceConfig;
use sha2::{Digest, Sha256};

motcua_chassis::variables! {
    /// The variables only signing reads.
    pub const VARIABLES = [
        ENV_SIGNING_KEY_ENCRYPTION_SECRET {
            name: "MOTCUA_SIGNING_KEY_ENCRYPTION_SECRET",
            default: "<development secret derived from the database URL, with a warning>",
            secret: true,
            description: "signing: password of the private keys kept as encrypted PKCS#8 (PBES2)",
        },
        ENV_SIGNING_LOG_ORIGIN {
            name: "MOTCUA_SIGNING_LOG_ORIGIN",
            default: "motcua.example/signing-log",
            secret: false,
            description: "signing: origin line of the transparency log's checkpoints",
        },
        ENV_SIGNING_PKCS11_MODULE {
            name: "MOTCUA_SIGNING_PKCS11_MODULE",
            default: "",
            secret: false,
            description: "signing: PKCS#11 module path; set, new ECDSA keys are made in the token",
        },
        ENV_SIGNING_PKCS11_TOKEN_LABEL {
            name: "MOTCUA_SIGNING_PKCS11_LABEL",
            default: "motcua",
            secret: false,
            description: "signing: label of the PKCS#11 token",
        },
        ENV_SIGNING_PKCS11_PIN {
            name: "MOTCUA_SIGNING_PKCS11_PIN",
            default: "",
            secret: true,
            description: "signing: user PIN of the PKCS#11 token",
        },
        ENV_SIGNING_LOG_BATCH {
            name: "MOTCUA_SIGNING_LOG_BATCH",
            default: "256",
            secret: false,
            description: "signing: at most this many signing acts share one transaction and one take of the log's head (1 to 1000)",
        },
        ENV_SIGNING_LOG_BATCH_WAIT_MS {
            name: "MOTCUA_SIGNING_LOG_BATCH_WAIT_MS",
            default: "0",
            secret: false,
            description: "signing: how long a batch of signing acts waits for more after its first, in ms (0 to 1000)",
        },
        ENV_SIGNING_WITNESS_NAME {
            name: "MOTCUA_SIGNING_WITNESS_NAME",
            default: "motcua.example/signing-witness",
            secret: false,
            description: "signing: key name of this deployment's witness, in its cosignature lines",
        },
        ENV_SIGNING_WITNESSED_LOGS {
            name: "MOTCUA_SIGNING_WITNESSED_LOGS",
            default: "",
            secret: false,
            description: "signing: logs this deployment witnesses, comma-separated verifier keys (origin+id+key)",
        },
        ENV_SIGNING_WITNESSES {
            name: "MOTCUA_SIGNING_WITNESSES",
            default: "",
            secret: false,
            description: "signing: witnesses of this log, comma-separated <witness verifier key>@<URL>",
        },
        ENV_SIGNING_WITNESS_QUORUM {
            name: "MOTCUA_SIGNING_WITNESS_QUORUM",
            default: "0",
            secret: false,
            description: "signing: cosignatures a checkpoint needs to be served (k of the n witnesses); 0 serves it unwitnessed",
        },
    ];
}

/// What signing needs beyond the chassis's configuration.
#[derive(Clone)]
pub struct SigningSettings {
    /// The password of every key kept as encrypted PKCS#8.
    pub key_encryption_secret: String,
    /// Whether that secret is the development default (derived, not configured).
    pub development_secret: bool,
    /// The log's origin line and key name.
    pub log_origin: String,
    /// The organisation named in every certificate's subject.
    pub organization: String,
    /// The PKCS#11 token new ECDSA keys are made in, when configured.
    pub pkcs11: Option<Pkcs11Settings>,
    /// The witness this deployment runs, and the witnesses of its own log.
    pub witnessing: crate::witness::Settings,
}

/// Where the PKCS#11 token is.
#[derive(Clone)]
pub struct Pkcs11Settings {
    /// The module's path.
    pub module: String,
    /// The token's label.
    pub token_label: String,
    /// The user PIN.
    pub pin: String,
}

impl std::fmt::Debug for SigningSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningSettings")
            .field("development_secret", &self.development_secret)
            .field("log_origin", &self.log_origin)
            .field("pkcs11_module", &self.pkcs11.as_ref().map(|pkcs11| pkcs11.module.clone()))
            .finish_non_exhaustive()
    }
}

impl SigningSettings {
    /// The settings of `config`. Without a configured secret, one is derived from the database URL
    /// (stable across restarts of a laptop's `make run`, and useless anywhere else).
    pub fn from_config(config: &ServiceConfig) -> Self {
        let (key_encryption_secret, development_secret) = match config.variable(ENV_SIGNING_KEY_ENCRYPTION_SECRET) {
            Some(secret) => (secret.to_owned(), false),
            None => {
                let digest =
                    Sha256::digest(format!("motcua development key-encryption secret|{}", config.database_url));
                (hex::encode(digest), true)
            }
        };
        Self {
            key_encryption_secret,
            development_secret,
            log_origin: config.variable_or_default(VARIABLES, ENV_SIGNING_LOG_ORIGIN).to_owned(),
            organization: "Trung tâm Phục vụ hành chính công".to_owned(),
            pkcs11: config.variable(ENV_SIGNING_PKCS11_MODULE).map(|module| Pkcs11Settings {
                module: module.to_owned(),
                token_label: config.variable_or_default(VARIABLES, ENV_SIGNING_PKCS11_TOKEN_LABEL).to_owned(),
                pin: config.variable(ENV_SIGNING_PKCS11_PIN).unwrap_or_default().to_owned(),
            }),
            witnessing: crate::witness::Settings::from_config(config),
        }
    }
}

/// The limits of a batch of signing acts, from [`ENV_SIGNING_LOG_BATCH`] and
/// [`ENV_SIGNING_LOG_BATCH_WAIT_MS`]; a value out of range stops start-up.
pub fn batch_limits(config: &ServiceConfig) -> anyhow::Result<crate::batcher::BatchLimits> {
    let read = |variable: &str, max: u64| -> anyhow::Result<u64> {
        let value = config.variable_or_default(VARIABLES, variable);
        value
            .parse::<u64>()
            .ok()
            .filter(|number| *number <= max)
            .ok_or_else(|| anyhow::anyhow!("{variable} must be a whole number up to {max}, not {value:?}"))
    };
    let max_entries = read(ENV_SIGNING_LOG_BATCH, crate::batcher::MAX_BATCH as u64)?.max(1) as usize;
    let max_wait = std::time::Duration::from_millis(read(ENV_SIGNING_LOG_BATCH_WAIT_MS, 1000)?);
    Ok(crate::batcher::BatchLimits { max_entries, max_wait })
}
