//! Reporting's own settings, read from its `MOTCUA_REPORTING_*` variables (declared here, once), with
//! defaults that run on one machine.

use anyhow::Context;
use motcua_chassis::ServiceConfig;

use crate::domain::index::Weights;

motcua_chassis::variables! {
    /// The variables only reporting reads.
    pub const VARIABLES = [
        ENV_REPORTING_INTAKE_URL {
            name: "MOTCUA_REPORTING_INTAKE_URL",
            default: "http://127.0.0.1:50051",
            secret: false,
            description: "reporting: URL of the intake service, whose event feed it follows",
        },
        ENV_REPORTING_SIGNING_URL {
            name: "MOTCUA_REPORTING_SIGNING_URL",
            default: "http://127.0.0.1:50052",
            secret: false,
            description: "reporting: URL of the signing service, whose event feed it follows",
        },
        ENV_REPORTING_RECEIPT_URL {
            name: "MOTCUA_REPORTING_RECEIPT_URL",
            default: "http://127.0.0.1:50053",
            secret: false,
            description: "reporting: URL of the receipt service, whose event feed it follows",
        },
        ENV_REPORTING_INDEX_POINTS {
            name: "MOTCUA_REPORTING_INDEX_POINTS",
            default: "<the defaults of docs/api.md>",
            secret: false,
            description: "reporting: Decision 766 indicator points, code=points pairs (2.1=14,2.2=6); each group keeps its total",
        },
    ];
}

/// What reporting needs beyond the chassis's configuration.
#[derive(Debug, Clone)]
pub struct ReportingSettings {
    /// The URLs of the feeds it follows: intake, signing and receipt, in that order.
    pub source_urls: [String; 3],
    /// The points of the Decision 766 indicators.
    pub weights: Weights,
}

impl ReportingSettings {
    /// The settings of `config`; indicator points that do not parse stop start-up.
    pub fn from_config(config: &ServiceConfig) -> anyhow::Result<Self> {
        let url = |variable| config.variable_or_default(VARIABLES, variable).to_owned();
        Ok(Self {
            source_urls: [
                url(ENV_REPORTING_INTAKE_URL),
                url(ENV_REPORTING_SIGNING_URL),
                url(ENV_REPORTING_RECEIPT_URL),
            ],
            weights: Weights::parse(config.variable(ENV_REPORTING_INDEX_POINTS).unwrap_or_default())
                .with_context(|| format!("{ENV_REPORTING_INDEX_POINTS} is not valid"))?,
        })
    }
}
