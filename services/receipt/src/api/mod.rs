//! Receipt's gRPC handlers: request validation, proto <-> domain, nothing else. Each resource has its
//! own file; this one binds them to the generated service trait, noting each recorded call's facts
//! for the audit trail on the way in and out.

pub mod audit;
pub mod convert;
mod corrections;
mod events;
mod receipts;
mod renderings;
mod results;
mod series;
mod validate;

pub use events::event as receipt_event;

use std::sync::Arc;

use motcua_chassis::{ApiError, ServiceKind, feed::Feed, identity::Caller};
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_service_server::ReceiptService};
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

/// What every handler reads: the database, the event feed, and the bell of the signing job.
pub struct ReceiptState {
    /// Receipt's database, migrated.
    pub db: DatabaseConnection,
    /// The event feed.
    pub feed: Feed,
    /// Rung after a receipt commits, so the signing job asks signing now rather than at its next poll.
    pub signing_due: Arc<Notify>,
    /// The signing service, which signs each receipt's XML.
    pub signing: crate::peers::Signing,
    /// Numbers issued receipts, batching the calls that wait on one series.
    pub numbering: crate::store::numbering::Numbering,
    /// The time every handler and the signing job read.
    pub clock: motcua_chassis::clock::Clock,
    /// The public address of the verification pages, for the QR codes of result documents.
    pub public_base_url: String,
}

/// The receipt service's handlers.
#[derive(Clone)]
pub struct ReceiptApi {
    state: Arc<ReceiptState>,
}

impl ReceiptApi {
    /// Handlers over `state`, which the signing job shares.
    pub fn new(state: Arc<ReceiptState>) -> Self {
        Self { state }
    }
}

/// The caller the chassis's guard established; every guarded request has one.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Caller::of(request).map_err(status)
}

/// The status of an error of receipt's.
fn status(error: ApiError) -> Status {
    error.into_status(ServiceKind::Receipt.error_domain())
}

/// A stored response, decoded for a retry.
fn decode<T: Message + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    T::decode(bytes).map_err(|error| ApiError::internal(format!("stored response: {error}")))
}

/// Today in Asia/Ho_Chi_Minh (UTC+7, no daylight saving), the day receipts are dated by.
fn today(clock: &motcua_chassis::clock::Clock) -> chrono::NaiveDate {
    motcua_chassis::timestamps::local_date(clock.now())
}

type Reply<T> = Result<Response<T>, Status>;

/// The stream `WatchEvents` answers with.
type WatchStream = tonic::codegen::BoxStream<pb::ReceiptEvent>;

#[tonic::async_trait]
impl ReceiptService for ReceiptApi {
    async fn create_series(&self, request: Request<pb::CreateSeriesRequest>) -> Reply<pb::CreateSeriesResponse> {
        let note = audit::noted(&request);
        self.create_series_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn get_series(&self, request: Request<pb::GetSeriesRequest>) -> Reply<pb::Series> {
        self.get_series_handler(request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn list_series(&self, request: Request<pb::ListSeriesRequest>) -> Reply<pb::ListSeriesResponse> {
        self.list_series_handler(request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn close_series(&self, request: Request<pb::CloseSeriesRequest>) -> Reply<pb::CloseSeriesResponse> {
        let note = audit::noted(&request);
        self.close_series_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn issue_receipt(&self, request: Request<pb::IssueReceiptRequest>) -> Reply<pb::IssueReceiptResponse> {
        let note = audit::noted(&request);
        self.issue_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn get_receipt(&self, request: Request<pb::GetReceiptRequest>) -> Reply<pb::Receipt> {
        let note = audit::noted(&request);
        self.get_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn list_receipts(&self, request: Request<pb::ListReceiptsRequest>) -> Reply<pb::ListReceiptsResponse> {
        let note = audit::noted(&request);
        self.list_receipts_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn lookup_receipt(&self, request: Request<pb::LookupReceiptRequest>) -> Reply<pb::LookupReceiptResponse> {
        self.lookup_receipt_handler(request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn cancel_receipt(&self, request: Request<pb::CancelReceiptRequest>) -> Reply<pb::CancelReceiptResponse> {
        let note = audit::noted(&request);
        self.cancel_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn replace_receipt(&self, request: Request<pb::ReplaceReceiptRequest>) -> Reply<pb::ReplaceReceiptResponse> {
        let note = audit::noted(&request);
        self.replace_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn adjust_receipt(&self, request: Request<pb::AdjustReceiptRequest>) -> Reply<pb::AdjustReceiptResponse> {
        let note = audit::noted(&request);
        self.adjust_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn render_receipt(&self, request: Request<pb::RenderReceiptRequest>) -> Reply<pb::RenderReceiptResponse> {
        let note = audit::noted(&request);
        self.render_receipt_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn render_result_document(
        &self,
        request: Request<pb::RenderResultDocumentRequest>,
    ) -> Reply<pb::RenderResultDocumentResponse> {
        let note = audit::noted(&request);
        self.render_result_document_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn get_usage_report(&self, request: Request<pb::GetUsageReportRequest>) -> Reply<pb::GetUsageReportResponse> {
        self.get_usage_report_handler(caller(&request)?, request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Reply<WatchStream> {
        let domain = ServiceKind::Receipt.error_domain();
        self.state.feed.watch_events(request.get_ref().after_sequence, domain).map(Response::new)
    }
}
