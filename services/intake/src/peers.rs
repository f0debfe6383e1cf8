//! Intake's clients of other services: signing, which signs a dossier's result for the officer and
//! seals it for the branch leader, through the chassis's signing client. Calls carry the trace
//! context, so they join the request's trace; signing's refusals reach the caller as the chassis maps
//! them (SIGNING_REFUSED, SIGNING_UNAVAILABLE).

use motcua_chassis::{
    ApiError, ServiceConfig,
    peer::signing::{InvalidSigningUrl, MadeSignature, SealContent, SignContent, SigningClient},
};

use crate::settings::ENV_INTAKE_SIGNING_URL;

/// The signing service, as intake calls it: documents by their digest, refusals as intake's errors.
#[derive(Clone)]
pub struct Signing(SigningClient);

impl Signing {
    /// A client of the signing service at `url`, connected on first use.
    pub fn connect(config: &ServiceConfig, url: &str) -> Result<Self, InvalidSigningUrl> {
        SigningClient::connect(config, ENV_INTAKE_SIGNING_URL, url).map(Self)
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
        let content = SignContent::DocumentSha256(document_sha256);
        Ok(self.0.sign(request_id, officer_id, content, subject).await?)
    }

    /// Has `approver_id` approve `officer_signature` by applying the branch seal.
    pub async fn seal(
        &self,
        request_id: String,
        officer_signature: &str,
        approver_id: &str,
        document_sha256: Vec<u8>,
    ) -> Result<MadeSignature, ApiError> {
        let content = SealContent::DocumentSha256(document_sha256);
        Ok(self.0.seal(request_id, officer_signature, approver_id, content).await?)
    }
}
