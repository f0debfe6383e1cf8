//! Intake's gRPC handlers: request validation, proto <-> domain, nothing else. Each resource has its
//! own file; this one binds them to the generated service trait, noting each recorded call's facts
//! for the audit trail on the way in and out.

pub mod audit;
mod catalogue;
pub mod convert;
mod documents;
mod dossiers;
mod feedback;
mod moves;
mod processing;
mod results;
mod validate;

use std::sync::Arc;

use motcua_chassis::{ApiError, ServiceKind, feed::Feed, identity::Caller};
use motcua_proto::motcua::intake::v1::{self as pb, intake_service_server::IntakeService};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::calendar::WorkCalendar;

/// What every handler and follow-up job reads: the database, the event feed, the working-day calendar,
/// the key of the applicant index and the peers.
pub struct IntakeState {
    /// Intake's database, migrated and seeded.
    pub db: DatabaseConnection,
    /// The event feed.
    pub feed: Feed,
    /// The working-day calendar.
    pub calendar: WorkCalendar,
    /// The key of the applicant index's keyed hash.
    pub applicant_index_key: Vec<u8>,
    /// The signing service, which signs and seals results.
    pub signing: crate::peers::Signing,
    /// The receipt service, which issues the follow-ups' slips and fee receipts.
    pub receipt: motcua_chassis::peer::receipt::ReceiptClient,
    /// The collecting organisation's tax code, printed on fee receipts.
    pub collecting_tax_code: String,
    /// The job runner's bell, rung after a commit that may have recorded follow-ups.
    pub follow_ups_due: Arc<tokio::sync::Notify>,
    /// The time intake reads (manual in tests that need fixed dates).
    pub clock: motcua_chassis::clock::Clock,
    /// How dossier codes are printed and read back.
    pub code_format: crate::domain::dossier_code::CodeFormat,
}

/// The intake service's handlers.
#[derive(Clone)]
pub struct IntakeApi {
    state: Arc<IntakeState>,
}

impl IntakeApi {
    /// Handlers over `state`, which the job runner shares.
    pub fn new(state: Arc<IntakeState>) -> Self {
        Self { state }
    }
}

/// The caller the chassis's guard established; every guarded request has one.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Caller::of(request).map_err(status)
}

/// The status of an error of intake's.
fn status(error: ApiError) -> Status {
    error.into_status(ServiceKind::Intake.error_domain())
}

type Reply<T> = Result<Response<T>, Status>;

/// The stream `WatchEvents` answers with.
type WatchStream = tonic::codegen::BoxStream<pb::IntakeEvent>;

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn list_procedures(&self, request: Request<pb::ListProceduresRequest>) -> Reply<pb::ListProceduresResponse> {
        self.list_procedures_handler(request).await
    }

    async fn get_procedure(&self, request: Request<pb::GetProcedureRequest>) -> Reply<pb::Procedure> {
        self.get_procedure_handler(request).await
    }

    async fn list_procedure_versions(
        &self,
        request: Request<pb::ListProcedureVersionsRequest>,
    ) -> Reply<pb::ListProcedureVersionsResponse> {
        self.list_procedure_versions_handler(request).await
    }

    async fn list_branches(&self, request: Request<pb::ListBranchesRequest>) -> Reply<pb::ListBranchesResponse> {
        self.list_branches_handler(request).await
    }

    async fn create_dossier(&self, request: Request<pb::CreateDossierRequest>) -> Reply<pb::CreateDossierResponse> {
        let note = audit::noted(&request);
        self.create_dossier_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn get_dossier(&self, request: Request<pb::GetDossierRequest>) -> Reply<pb::Dossier> {
        let note = audit::noted(&request);
        self.get_dossier_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn list_dossiers(&self, request: Request<pb::ListDossiersRequest>) -> Reply<pb::ListDossiersResponse> {
        let note = audit::noted(&request);
        self.list_dossiers_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn accept_dossier(&self, request: Request<pb::AcceptDossierRequest>) -> Reply<pb::AcceptDossierResponse> {
        let note = audit::noted(&request);
        self.accept(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn refuse_dossier(&self, request: Request<pb::RefuseDossierRequest>) -> Reply<pb::RefuseDossierResponse> {
        let note = audit::noted(&request);
        self.refuse(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn start_processing(
        &self,
        request: Request<pb::StartProcessingRequest>,
    ) -> Reply<pb::StartProcessingResponse> {
        let note = audit::noted(&request);
        self.start_processing_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn transfer_dossier(
        &self,
        request: Request<pb::TransferDossierRequest>,
    ) -> Reply<pb::TransferDossierResponse> {
        let note = audit::noted(&request);
        self.transfer(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn request_supplement(
        &self,
        request: Request<pb::RequestSupplementRequest>,
    ) -> Reply<pb::RequestSupplementResponse> {
        let note = audit::noted(&request);
        self.request_supplement_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn supplement_dossier(
        &self,
        request: Request<pb::SupplementDossierRequest>,
    ) -> Reply<pb::SupplementDossierResponse> {
        let note = audit::noted(&request);
        self.supplement(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn request_payment(&self, request: Request<pb::RequestPaymentRequest>) -> Reply<pb::RequestPaymentResponse> {
        let note = audit::noted(&request);
        self.request_payment_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn confirm_payment(&self, request: Request<pb::ConfirmPaymentRequest>) -> Reply<pb::ConfirmPaymentResponse> {
        let note = audit::noted(&request);
        self.confirm_payment_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn stop_dossier(&self, request: Request<pb::StopDossierRequest>) -> Reply<pb::StopDossierResponse> {
        let note = audit::noted(&request);
        self.stop(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn withdraw_dossier(
        &self,
        request: Request<pb::WithdrawDossierRequest>,
    ) -> Reply<pb::WithdrawDossierResponse> {
        let note = audit::noted(&request);
        self.withdraw(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn resolve_dossier(&self, request: Request<pb::ResolveDossierRequest>) -> Reply<pb::ResolveDossierResponse> {
        let note = audit::noted(&request);
        self.resolve(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn approve_result(&self, request: Request<pb::ApproveResultRequest>) -> Reply<pb::ApproveResultResponse> {
        let note = audit::noted(&request);
        self.approve(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn return_result(&self, request: Request<pb::ReturnResultRequest>) -> Reply<pb::ReturnResultResponse> {
        let note = audit::noted(&request);
        self.return_result(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn apologize_dossier(
        &self,
        request: Request<pb::ApologizeDossierRequest>,
    ) -> Reply<pb::ApologizeDossierResponse> {
        let note = audit::noted(&request);
        self.apologize(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn create_feedback(&self, request: Request<pb::CreateFeedbackRequest>) -> Reply<pb::CreateFeedbackResponse> {
        let note = audit::noted(&request);
        self.create_feedback_handler(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn rate_dossier(&self, request: Request<pb::RateDossierRequest>) -> Reply<pb::RateDossierResponse> {
        let note = audit::noted(&request);
        self.rate(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn add_document(&self, request: Request<pb::AddDocumentRequest>) -> Reply<pb::AddDocumentResponse> {
        let note = audit::noted(&request);
        self.add_document(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn get_document(&self, request: Request<pb::GetDocumentRequest>) -> Reply<pb::Document> {
        let note = audit::noted(&request);
        self.get_document(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn list_applicant_documents(
        &self,
        request: Request<pb::ListApplicantDocumentsRequest>,
    ) -> Reply<pb::ListApplicantDocumentsResponse> {
        let note = audit::noted(&request);
        self.list_applicant_documents(caller(&request)?, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Reply<WatchStream> {
        let domain = ServiceKind::Intake.error_domain();
        self.state.feed.watch_events(request.get_ref().after_sequence, domain).map(Response::new)
    }
}
