//! Intake's clients of other services: signing, which signs a dossier's result for the officer and
//! seals it for the branch leader. Calls carry the trace context, so they join the request's trace.

use motcua_chassis::{ApiError, peer};
use motcua_proto::motcua::signing::v1::{
    SealRequest, SignRequest, seal_request, sign_request, signing_service_client::SigningServiceClient,
};
use tonic::Code;

/// A signature made by signing: its resource name and its transparency log index.
#[derive(Debug, Clone)]
pub struct MadeSignature {
    /// `signatures/{id}`.
    pub name: String,
    /// Its leaf in the transparency log.
    pub log_index: i64,
}

/// The signing service, as intake calls it.
#[derive(Clone)]
pub struct Signing {
    client: SigningServiceClient<peer::PeerChannel>,
}

impl Signing {
    /// A client of the signing service at `url`, connected on first use.
    pub fn connect(config: &motcua_chassis::ServiceConfig, url: &str) -> anyhow::Result<Self> {
        Ok(Self { client: SigningServiceClient::new(peer::connect_as(config, url)?) })
    }

    /// Has `officer_id` sign the document with digest `document_sha256`. `request_id` is derived from
    /// the dossier move's, so a retried move never signs twice.
    pub async fn sign(
        &self,
        request_id: String,
        officer_id: &str,
        document_sha256: Vec<u8>,
        subject: String,
    ) -> Result<MadeSignature, ApiError> {
        let request = SignRequest {
            request_id,
            signer_id: officer_id.to_owned(),
            certificate: String::new(),
            content: Some(sign_request::Content::DocumentSha256(document_sha256)),
            subject,
        };
        let response = self.client.clone().sign(request).await.map_err(refusal)?.into_inner();
        let signature =
            response.signature.ok_or_else(|| ApiError::internal("signing answered Sign without a signature"))?;
        Ok(MadeSignature { name: signature.name, log_index: signature.log_index })
    }

    /// Has `approver_id` approve `officer_signature` by applying the branch seal.
    pub async fn seal(
        &self,
        request_id: String,
        officer_signature: &str,
        approver_id: &str,
        document_sha256: Vec<u8>,
    ) -> Result<MadeSignature, ApiError> {
        let request = SealRequest {
            request_id,
            officer_signature: officer_signature.to_owned(),
            approver_id: approver_id.to_owned(),
            content: Some(seal_request::Content::DocumentSha256(document_sha256)),
        };
        let response = self.client.clone().seal(request).await.map_err(refusal)?.into_inner();
        let seal = response.seal.ok_or_else(|| ApiError::internal("signing answered Seal without a seal"))?;
        Ok(MadeSignature { name: seal.name, log_index: seal.log_index })
    }
}

/// What intake's caller is told when signing says no: a refusal of the signer is theirs to fix; a
/// signing service that cannot be reached is worth a retry with the same request id.
fn refusal(status: tonic::Status) -> ApiError {
    match status.code() {
        Code::NotFound | Code::FailedPrecondition | Code::PermissionDenied | Code::InvalidArgument => {
            ApiError::FailedPrecondition {
                reason: "SIGNER_NOT_ALLOWED",
                violation_type: "SIGNER",
                subject: String::new(),
                description: format!("signing refused: {}", status.message()),
            }
        }
        _ => ApiError::Unavailable {
            reason: "SIGNING_UNAVAILABLE",
            description: format!(
                "the signing service did not answer ({}); retry with the same request_id",
                status.code()
            ),
        },
    }
}
