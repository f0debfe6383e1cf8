//! Signing's own settings, read from the chassis configuration's `MOTCUA_SIGNING_*` variables, with
//! defaults that run on one machine.

use motcua_chassis::{
    ServiceConfig,
    config::{
        ENV_SIGNING_KEY_ENCRYPTION_SECRET, ENV_SIGNING_LOG_ORIGIN, ENV_SIGNING_PKCS11_MODULE, ENV_SIGNING_PKCS11_PIN,
        ENV_SIGNING_PKCS11_TOKEN_LABEL,
    },
};
use sha2::{Digest, Sha256};

/// The origin of the log when none is configured.
pub const DEFAULT_LOG_ORIGIN: &str = "motcua.example/signing-log";

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
            log_origin: config.variable(ENV_SIGNING_LOG_ORIGIN).unwrap_or(DEFAULT_LOG_ORIGIN).to_owned(),
            organization: "Trung tâm Phục vụ hành chính công".to_owned(),
            pkcs11: config.variable(ENV_SIGNING_PKCS11_MODULE).map(|module| Pkcs11Settings {
                module: module.to_owned(),
                token_label: config.variable(ENV_SIGNING_PKCS11_TOKEN_LABEL).unwrap_or("motcua").to_owned(),
                pin: config.variable(ENV_SIGNING_PKCS11_PIN).unwrap_or_default().to_owned(),
            }),
        }
    }
}
