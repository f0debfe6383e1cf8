//! Receipt's client of signing, which signs each receipt's canonical XML with the collector's key,
//! through the chassis's signing client. Calls carry the trace context, so they join the job's trace.

pub use motcua_chassis::peer::signing::MadeSignature;
use motcua_chassis::{
    ServiceConfig,
    peer::{
        PeerError, PeerFailure,
        signing::{InvalidSigningUrl, SignContent, SigningClient},
    },
};

use crate::settings::ENV_RECEIPT_SIGNING_URL;

/// Why signing did not sign.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignFailure {
    /// Signing refused for good (no such signer, no active certificate): an operator must act.
    #[error("signing refused: {reason}")]
    Refused {
        /// The ErrorInfo reason, or the code's name.
        reason: String,
    },
    /// Signing could not be reached or failed for now: retried later with the same request id.
    #[error("signing is unavailable: {reason}")]
    Unavailable {
        /// The ErrorInfo reason, or the code's name.
        reason: String,
    },
}

impl From<PeerError> for SignFailure {
    fn from(error: PeerError) -> Self {
        match error.failure {
            PeerFailure::Refused => Self::Refused { reason: error.reason },
            PeerFailure::Unavailable => Self::Unavailable { reason: error.reason },
        }
    }
}

/// The signing service, as receipt calls it: whole documents, refusals as a [`SignFailure`] the
/// signing job acts on.
#[derive(Clone)]
pub struct Signing(SigningClient);

impl Signing {
    /// A client of the signing service at `url`, connected on first use.
    pub fn connect(config: &ServiceConfig, url: &str) -> Result<Self, InvalidSigningUrl> {
        SigningClient::connect(config, ENV_RECEIPT_SIGNING_URL, url).map(Self)
    }

    /// Has `officer_id` sign `document` (a receipt's canonical XML) for `subject`. `request_id` is
    /// derived from the issuing request's, so a retry never signs twice.
    pub async fn sign(
        &self,
        request_id: String,
        officer_id: &str,
        document: Vec<u8>,
        subject: String,
    ) -> Result<MadeSignature, SignFailure> {
        Ok(self.0.sign(request_id, officer_id, SignContent::Document(document), subject).await?)
    }
}
