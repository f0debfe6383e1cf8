//! Receipt's client of signing, which signs each receipt's canonical XML with the collector's key.
//! Calls carry the trace context, so they join the job's trace.

use motcua_chassis::peer;
use motcua_proto::motcua::signing::v1::{SignRequest, sign_request, signing_service_client::SigningServiceClient};
use tonic::Code;

/// A signature made by signing.
#[derive(Debug, Clone)]
pub struct MadeSignature {
    /// `signatures/{id}`.
    pub name: String,
    /// Its leaf in the transparency log.
    pub log_index: i64,
}

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

/// The signing service, as receipt calls it.
#[derive(Clone)]
pub struct Signing {
    client: SigningServiceClient<peer::PeerChannel>,
}

impl Signing {
    /// A client of the signing service at `url`, connected on first use.
    pub fn connect(config: &motcua_chassis::ServiceConfig, url: &str) -> anyhow::Result<Self> {
        Ok(Self { client: SigningServiceClient::new(peer::connect_as(config, url)?) })
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
        let request = SignRequest {
            request_id,
            signer_id: officer_id.to_owned(),
            certificate: String::new(),
            content: Some(sign_request::Content::Document(document)),
            subject,
        };
        let response = self.client.clone().sign(request).await.map_err(failure)?.into_inner();
        let signature = response
            .signature
            .ok_or_else(|| SignFailure::Unavailable { reason: "NO_SIGNATURE_IN_RESPONSE".to_owned() })?;
        Ok(MadeSignature { name: signature.name, log_index: signature.log_index })
    }
}

fn failure(status: tonic::Status) -> SignFailure {
    use tonic_types::StatusExt;
    let reason = status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_else(|| format!("{:?}", status.code()).to_uppercase());
    match status.code() {
        Code::NotFound | Code::FailedPrecondition | Code::PermissionDenied | Code::InvalidArgument => {
            SignFailure::Refused { reason }
        }
        _ => SignFailure::Unavailable { reason },
    }
}
