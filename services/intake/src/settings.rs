//! Intake's own settings, read from its `MOTCUA_INTAKE_*` variables (declared here, once), with
//! defaults that run on one machine.

use std::path::PathBuf;

use anyhow::Context;
use motcua_chassis::ServiceConfig;

use crate::domain::dossier_code::CodeFormat;

motcua_chassis::variables! {
    /// The variables only intake reads.
    pub const VARIABLES = [
        ENV_INTAKE_SEED_DIR {
            name: "MOTCUA_INTAKE_SEED_DIR",
            default: "",
            secret: false,
            description: "intake: folder replacing the built-in seed files (procedures, branches, holidays)",
        },
        ENV_INTAKE_APPLICANT_INDEX_KEY {
            name: "MOTCUA_INTAKE_APPLICANT_INDEX_KEY",
            default: "<a development key, with a warning>",
            secret: true,
            description: "intake: secret key of the applicant index (keyed hash of identity numbers and tax codes)",
        },
        ENV_INTAKE_SIGNING_URL {
            name: "MOTCUA_INTAKE_SIGNING_URL",
            default: "http://127.0.0.1:50052",
            secret: false,
            description: "intake: URL of the signing service (results are signed and sealed there)",
        },
        ENV_INTAKE_RECEIPT_URL {
            name: "MOTCUA_INTAKE_RECEIPT_URL",
            default: "http://127.0.0.1:50053",
            secret: false,
            description: "intake: URL of the receipt service (acknowledgement slips and fee receipts are issued there)",
        },
        ENV_INTAKE_COLLECTING_TAX_CODE {
            name: "MOTCUA_INTAKE_COLLECTING_TAX_CODE",
            default: "0101234567",
            secret: false,
            description: "intake: tax code of the collecting organisation, printed on the fee receipts intake has issued (a development one by default)",
        },
        ENV_INTAKE_DOSSIER_CODE_FORMAT {
            name: "MOTCUA_INTAKE_DOSSIER_CODE_FORMAT",
            default: "{agency}-{date:%y%m%d}-{number:4}",
            secret: false,
            description: "intake: the printed form of dossier codes: {agency}, {date:FORMAT} and {number:DIGITS} once each",
        },
    ];
}

/// The applicant index key of a development run (`make run`, tests): public, so never for real data.
const DEVELOPMENT_APPLICANT_INDEX_KEY: &[u8] = b"motcua development applicant index key";

/// What intake needs beyond the chassis's configuration.
pub struct IntakeSettings {
    /// The folder replacing the built-in seed files, if any.
    pub seed_dir: Option<PathBuf>,
    /// The key of the applicant index's keyed hash.
    pub applicant_index_key: Vec<u8>,
    /// Where the signing service listens.
    pub signing_url: String,
    /// Where the receipt service listens.
    pub receipt_url: String,
    /// The collecting organisation's tax code, for fee receipts.
    pub collecting_tax_code: String,
    /// How dossier codes are printed and read back.
    pub code_format: CodeFormat,
}

impl IntakeSettings {
    /// The settings of `config`; a dossier code format that does not parse stops start-up.
    pub fn from_config(config: &ServiceConfig) -> anyhow::Result<Self> {
        let applicant_index_key = match config.variable(ENV_INTAKE_APPLICANT_INDEX_KEY) {
            Some(key) => key.as_bytes().to_vec(),
            None => {
                tracing::warn!(
                    variable = ENV_INTAKE_APPLICANT_INDEX_KEY,
                    "no applicant index key is set: using the DEVELOPMENT key, which anyone can read in the source; set one in production"
                );
                DEVELOPMENT_APPLICANT_INDEX_KEY.to_vec()
            }
        };
        let template = config.variable_or_default(VARIABLES, ENV_INTAKE_DOSSIER_CODE_FORMAT);
        Ok(Self {
            seed_dir: config.variable(ENV_INTAKE_SEED_DIR).map(PathBuf::from),
            applicant_index_key,
            signing_url: config.variable_or_default(VARIABLES, ENV_INTAKE_SIGNING_URL).to_owned(),
            receipt_url: config.variable_or_default(VARIABLES, ENV_INTAKE_RECEIPT_URL).to_owned(),
            collecting_tax_code: config.variable_or_default(VARIABLES, ENV_INTAKE_COLLECTING_TAX_CODE).to_owned(),
            code_format: CodeFormat::parse_template(template)
                .with_context(|| format!("{ENV_INTAKE_DOSSIER_CODE_FORMAT} is not valid"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use motcua_chassis::ServiceKind;

    use super::*;
    use crate::domain::dossier_code::DEFAULT_TEMPLATE;

    #[test]
    fn an_unconfigured_intake_prints_codes_in_the_documented_default_format_and_calls_local_peers() {
        let config = ServiceConfig::for_local(ServiceKind::Intake, "sqlite::memory:");
        assert_eq!(motcua_chassis::config::default_of(VARIABLES, ENV_INTAKE_DOSSIER_CODE_FORMAT), DEFAULT_TEMPLATE);
        let settings = IntakeSettings::from_config(&config).expect("the defaults are valid");
        assert_eq!(settings.signing_url, "http://127.0.0.1:50052");
        assert_eq!(settings.receipt_url, "http://127.0.0.1:50053");
        assert_eq!(settings.seed_dir, None);
    }

    #[test]
    fn a_dossier_code_format_that_does_not_parse_stops_start_up_naming_the_variable() {
        let mut config = ServiceConfig::for_local(ServiceKind::Intake, "sqlite::memory:");
        config.service_variables.insert(ENV_INTAKE_DOSSIER_CODE_FORMAT, "{agency}".to_owned());
        let error = IntakeSettings::from_config(&config).err().expect("a template without date or number is refused");
        assert!(error.to_string().contains(ENV_INTAKE_DOSSIER_CODE_FORMAT), "{error}");
    }
}
