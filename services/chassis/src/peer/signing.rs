//! The signing service as its peers call it: one typed client that intake (officer signatures and
//! branch seals on results) and receipt (receipt signatures) share, answering with [`PeerError`].

use motcua_proto::motcua::signing::v1::{SealRequest, SignRequest, signing_service_client::SigningServiceClient};
pub use motcua_proto::motcua::signing::v1::{
    seal_request::Content as SealContent, sign_request::Content as SignContent,
};

use super::{ConnectError, PeerChannel, PeerError, connect_as};
use crate::config::{ServiceConfig, ServiceKind};

/// A signature made by signing: its resource name and its transparency log index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeSignature {
    /// `signatures/{id}`.
    pub name: String,
    /// Its leaf in the transparency log.
    pub log_index: i64,
}

/// A signing URL, as a service's setting gives it, that does not make a channel: start-up stops on it,
/// naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable} is not valid")]
pub struct InvalidSigningUrl {
    /// The environment variable that gave the URL (`MOTCUA_INTAKE_SIGNING_URL`).
    pub variable: &'static str,
    /// Why the URL makes no channel.
    #[source]
    pub source: ConnectError,
}

/// A client of the signing service, connected on first use.
#[derive(Clone)]
pub struct SigningClient {
    client: SigningServiceClient<PeerChannel>,
}

impl SigningClient {
    /// A client of the signing service at `url`, which the setting `variable` gives, for the service
    /// configured by `config` (see [`connect_as`]); a URL that does not parse is refused here, at
    /// start-up.
    pub fn connect(config: &ServiceConfig, variable: &'static str, url: &str) -> Result<Self, InvalidSigningUrl> {
        let channel = connect_as(config, url).map_err(|source| InvalidSigningUrl { variable, source })?;
        Ok(Self { client: SigningServiceClient::new(channel) })
    }

    /// Has `signer_id` sign `content` (a document, or its SHA-256) for `subject`. `request_id` is
    /// derived from the caller's own, so a retry never signs twice.
    pub async fn sign(
        &self,
        request_id: String,
        signer_id: &str,
        content: SignContent,
        subject: String,
    ) -> Result<MadeSignature, PeerError> {
        let request = SignRequest {
            request_id,
            signer_id: signer_id.to_owned(),
            certificate: String::new(),
            content: Some(content),
            subject,
        };
        let response = self.client.clone().sign(request).await.map_err(refused)?.into_inner();
        let signature = response.signature.ok_or_else(|| PeerError::incomplete(ServiceKind::Signing, "a signature"))?;
        Ok(MadeSignature { name: signature.name, log_index: signature.log_index })
    }

    /// Has `approver_id` approve `officer_signature` by applying the branch seal to `content`.
    pub async fn seal(
        &self,
        request_id: String,
        officer_signature: &str,
        approver_id: &str,
        content: SealContent,
    ) -> Result<MadeSignature, PeerError> {
        let request = SealRequest {
            request_id,
            officer_signature: officer_signature.to_owned(),
            approver_id: approver_id.to_owned(),
            content: Some(content),
        };
        let response = self.client.clone().seal(request).await.map_err(refused)?.into_inner();
        let seal = response.seal.ok_or_else(|| PeerError::incomplete(ServiceKind::Signing, "a seal"))?;
        Ok(MadeSignature { name: seal.name, log_index: seal.log_index })
    }
}

fn refused(status: tonic::Status) -> PeerError {
    PeerError::from_status(ServiceKind::Signing, &status)
}
