//! The receipt service as its peers call it: one typed client (intake's follow-ups issue slips and fee
//! receipts with it) that finds a branch's open series, issues a receipt under a caller's request id,
//! and reads a receipt's signature, answering with [`PeerError`].

pub use motcua_proto::motcua::receipt::v1::{
    AcknowledgedComponent, Acknowledgement, Collector, PaymentMethod, ReceiptContent, ReceiptItem, ReceiptKind,
};
use motcua_proto::motcua::receipt::v1::{
    GetReceiptRequest, IssueReceiptRequest, ListSeriesRequest, Receipt, SeriesState, SignatureState,
    receipt_service_client::ReceiptServiceClient,
};

use super::{ConnectError, PeerChannel, PeerError, connect_as};
use crate::config::{ServiceConfig, ServiceKind};

/// A receipt as its issuer records it: what is printed on it and where its signature stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedReceipt {
    /// `receipts/{receipt_id}`.
    pub name: String,
    /// Its number in its series as printed, 7 digits.
    pub number_text: String,
    /// The code printed on it for the citizen's lookup.
    pub lookup_code: String,
    /// Where its signature stands.
    pub signature: ReceiptSignature,
}

/// Where a receipt's signature stands, as its issuer acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptSignature {
    /// Receipt is still having it signed (signing down, or not yet reached).
    Pending,
    /// Signed, at this leaf of signing's transparency log.
    Signed {
        /// The signature's log index.
        log_index: i64,
    },
    /// Signing refused it for good: an operator must act in receipt.
    Refused,
}

/// A receipt URL, as a service's setting gives it, that does not make a channel: start-up stops on it,
/// naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable} is not valid")]
pub struct InvalidReceiptUrl {
    /// The environment variable that gave the URL (`MOTCUA_INTAKE_RECEIPT_URL`).
    pub variable: &'static str,
    /// Why the URL makes no channel.
    #[source]
    pub source: ConnectError,
}

/// A client of the receipt service, connected on first use.
#[derive(Clone)]
pub struct ReceiptClient {
    client: ReceiptServiceClient<PeerChannel>,
}

impl ReceiptClient {
    /// A client of the receipt service at `url`, which the setting `variable` gives, for the service
    /// configured by `config` (see [`connect_as`]); a URL that does not parse is refused here, at
    /// start-up.
    pub fn connect(config: &ServiceConfig, variable: &'static str, url: &str) -> Result<Self, InvalidReceiptUrl> {
        let channel = connect_as(config, url).map_err(|source| InvalidReceiptUrl { variable, source })?;
        Ok(Self { client: ReceiptServiceClient::new(channel) })
    }

    /// The first open series (`series/{id}`) of `branch_code` for `year` and `kind`, in receipt's order
    /// (branch, year, symbols); `None` when the branch has none open.
    pub async fn open_series(
        &self,
        branch_code: &str,
        year: i32,
        kind: ReceiptKind,
    ) -> Result<Option<String>, PeerError> {
        let request = ListSeriesRequest {
            page_size: 1,
            page_token: String::new(),
            branch_code: branch_code.to_owned(),
            year,
            kind: kind as i32,
            state: SeriesState::Open as i32,
        };
        let response = self.client.clone().list_series(request).await.map_err(refused)?.into_inner();
        Ok(response.series.into_iter().next().map(|series| series.name))
    }

    /// Issues a receipt with `content` in `series`. `request_id` is derived from the caller's own work
    /// (a dossier and the kind of receipt), so a retry returns the receipt already issued and never
    /// takes a second number.
    pub async fn issue(
        &self,
        request_id: String,
        series: String,
        content: ReceiptContent,
    ) -> Result<IssuedReceipt, PeerError> {
        let request = IssueReceiptRequest { request_id, series, content: Some(content) };
        let response = self.client.clone().issue_receipt(request).await.map_err(refused)?.into_inner();
        let receipt = response.receipt.ok_or_else(|| PeerError::incomplete(ServiceKind::Receipt, "a receipt"))?;
        Ok(issued(receipt))
    }

    /// The receipt `name` (`receipts/{id}`) as it stands now.
    pub async fn get(&self, name: &str) -> Result<IssuedReceipt, PeerError> {
        let request = GetReceiptRequest { name: name.to_owned() };
        let receipt = self.client.clone().get_receipt(request).await.map_err(refused)?.into_inner();
        Ok(issued(receipt))
    }
}

fn issued(receipt: Receipt) -> IssuedReceipt {
    let signature = match &receipt.signature {
        Some(signature) if signature.state == SignatureState::Signed as i32 => {
            ReceiptSignature::Signed { log_index: signature.log_index }
        }
        Some(signature) if signature.state == SignatureState::Refused as i32 => ReceiptSignature::Refused,
        _ => ReceiptSignature::Pending,
    };
    IssuedReceipt { name: receipt.name, number_text: receipt.number_text, lookup_code: receipt.lookup_code, signature }
}

fn refused(status: tonic::Status) -> PeerError {
    PeerError::from_status(ServiceKind::Receipt, &status)
}
