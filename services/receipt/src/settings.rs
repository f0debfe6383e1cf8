//! Receipt's own settings, read from its `MOTCUA_RECEIPT_*` variables (declared here, once), with
//! defaults that run on one machine.

use motcua_chassis::ServiceConfig;
use sea_orm::DbBackend;

use crate::store::numbering;

motcua_chassis::variables! {
    /// The variables only receipt reads.
    pub const VARIABLES = [
        ENV_RECEIPT_SIGNING_URL {
            name: "MOTCUA_RECEIPT_SIGNING_URL",
            default: "http://127.0.0.1:50052",
            secret: false,
            description: "receipt: URL of the signing service (every receipt is signed there, retried while it is down)",
        },
        ENV_RECEIPT_NUMBER_BATCH {
            name: "MOTCUA_RECEIPT_NUMBER_BATCH",
            default: "<64 on SQLite, 1 on PostgreSQL>",
            secret: false,
            description: "receipt: at most this many concurrent receipts of one series share a transaction and one counter update (1 to 1000; 1 turns batching off)",
        },
        ENV_RECEIPT_PUBLIC_BASE_URL {
            name: "MOTCUA_RECEIPT_PUBLIC_BASE_URL",
            default: "http://127.0.0.1:8080",
            secret: false,
            description: "receipt: the public address citizens verify at, printed in the QR code of result documents (`{base}/verify/result?dossier={code}`)",
        },
    ];
}

/// What receipt needs beyond the chassis's configuration.
#[derive(Debug, Clone)]
pub struct ReceiptSettings {
    /// Where the signing service listens.
    pub signing_url: String,
    /// How many concurrent receipts of one series share a numbering transaction.
    pub number_batch: usize,
    /// The public address of the verification pages, without a trailing slash.
    pub public_base_url: String,
}

impl ReceiptSettings {
    /// The settings of `config` on a database of `backend` (the batch's default depends on it); a
    /// batch outside 1 to [`numbering::MAX_BATCH`] stops start-up.
    pub fn from_config(config: &ServiceConfig, backend: DbBackend) -> anyhow::Result<Self> {
        let number_batch = match config.variable(ENV_RECEIPT_NUMBER_BATCH) {
            None => numbering::default_batch(backend),
            Some(value) => {
                value.parse::<usize>().ok().filter(|batch| (1..=numbering::MAX_BATCH).contains(batch)).ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "{ENV_RECEIPT_NUMBER_BATCH} must be a whole number from 1 to {}, not {value:?}",
                            numbering::MAX_BATCH
                        )
                    },
                )?
            }
        };
        Ok(Self {
            signing_url: config.variable_or_default(VARIABLES, ENV_RECEIPT_SIGNING_URL).to_owned(),
            number_batch,
            public_base_url: public_base_url(config.variable_or_default(VARIABLES, ENV_RECEIPT_PUBLIC_BASE_URL))?,
        })
    }
}

/// The public base URL as configured, checked to be an `http(s)` address with a host (a QR code a
/// phone cannot open is caught at start-up), without its trailing slash.
fn public_base_url(value: &str) -> anyhow::Result<String> {
    let trimmed = value.trim_end_matches('/');
    let host = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    anyhow::ensure!(
        host.is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace)),
        "{ENV_RECEIPT_PUBLIC_BASE_URL} must be an http or https address with a host, not {value:?}"
    );
    Ok(trimmed.to_owned())
}
