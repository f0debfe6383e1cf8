//! The reporting service's gRPC handlers: requests to domain and store, answers back to the contract;
//! every query answers from the rollups. Each resource has its own file; this one binds them to the
//! generated service trait, noting each recorded call's facts for the audit trail on the way in and
//! out, and holds what they share (the state, the branch check, the error mapping).

pub mod audit;
mod branches;
mod convert;
mod export;
mod index;
mod ingestion;
mod rebuilds;
mod summary;

use std::{collections::BTreeMap, sync::Arc};

use chrono::NaiveDate;
use motcua_chassis::{ApiError, ServiceKind, identity::Caller, timestamps};
use motcua_proto::motcua::reporting::v1::{self as pb, reporting_service_server::ReportingService};
use tonic::{Request, Response, Status};

use crate::{
    domain::{index::Weights, metrics::Totals},
    jobs::Jobs,
    store::{cursors, rollups},
};

type Reply<T> = Result<Response<T>, Status>;

/// What the handlers share.
pub struct ReportingState {
    pub jobs: Arc<Jobs>,
    pub weights: Weights,
    /// Branch names by code, as intake's catalogue last gave them.
    pub branch_names: crate::branch_names::BranchNames,
    /// The time "now" counters are measured at (manual in tests that need fixed dates).
    pub clock: motcua_chassis::clock::Clock,
}

/// The reporting service's handlers.
#[derive(Clone)]
pub struct ReportingApi {
    state: Arc<ReportingState>,
}

impl ReportingApi {
    pub fn new(state: Arc<ReportingState>) -> Self {
        Self { state }
    }
}

/// The status of an error of reporting's.
fn status(error: ApiError) -> Status {
    error.into_status(ServiceKind::Reporting.error_domain())
}

/// The caller the chassis's guard established; every guarded request has one.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Caller::of(request).map_err(status)
}

/// PERMISSION_DENIED unless `caller` may see figures of `branch_code`: a caller the policy limits to
/// some branches must name one of them (the whole center's figures, an empty code, are not its to see).
fn check_branch(caller: &Caller, branch_code: &str) -> Result<(), ApiError> {
    if caller.branches.is_empty() || (!branch_code.is_empty() && caller.may_act_for_branch(branch_code)) {
        return Ok(());
    }
    Err(ApiError::PermissionDenied {
        reason: "BRANCH_NOT_ALLOWED",
        description: if branch_code.is_empty() {
            format!("{} may see only its branches' figures: name one in branch_code", caller.identity)
        } else {
            format!("{} may not see the figures of branch {branch_code}", caller.identity)
        },
    })
}

fn database(error: sea_orm::DbErr) -> ApiError {
    ApiError::Unavailable { reason: "DATABASE_UNAVAILABLE", description: format!("reporting's database: {error}") }
}

impl ReportingState {
    /// The totals of the days `first` to `last` that pass `filter`, with "now" counters as of the clock.
    async fn totals(&self, first: NaiveDate, last: NaiveDate, filter: &rollups::Filter) -> Result<Totals, ApiError> {
        rollups::totals(&self.jobs.db, first, last, filter, self.clock.now().timestamp_millis()).await.map_err(database)
    }

    /// The same totals per branch, by branch code.
    async fn totals_by_branch(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        filter: &rollups::Filter,
    ) -> Result<BTreeMap<String, Totals>, ApiError> {
        rollups::totals_by_branch(&self.jobs.db, first, last, filter, self.clock.now().timestamp_millis())
            .await
            .map_err(database)
    }

    /// The commit time of the latest event applied, across the feeds.
    async fn data_time(&self) -> Result<Option<prost_types::Timestamp>, ApiError> {
        let rows = cursors::read_all(&self.jobs.db).await.map_err(database)?;
        Ok(rows.iter().filter_map(|row| row.last_event_ms).max().and_then(timestamp))
    }
}

fn timestamp(ms: i64) -> Option<prost_types::Timestamp> {
    chrono::DateTime::from_timestamp_millis(ms).map(timestamps::to_proto)
}

#[tonic::async_trait]
impl ReportingService for ReportingApi {
    async fn get_summary(&self, request: Request<pb::GetSummaryRequest>) -> Reply<pb::GetSummaryResponse> {
        self.get_summary_handler(caller(&request)?, request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn list_branch_stats(
        &self,
        request: Request<pb::ListBranchStatsRequest>,
    ) -> Reply<pb::ListBranchStatsResponse> {
        self.list_branch_stats_handler(caller(&request)?, request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn get_service_index(
        &self,
        request: Request<pb::GetServiceIndexRequest>,
    ) -> Reply<pb::GetServiceIndexResponse> {
        self.get_service_index_handler(caller(&request)?, request.into_inner()).await.map(Response::new).map_err(status)
    }

    async fn export_report(&self, request: Request<pb::ExportReportRequest>) -> Reply<export::ExportStream> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        check_branch(&caller, &request.branch_code).map_err(status)?;
        export::export(self.state.clone(), request).await.map(Response::new).map_err(status)
    }

    async fn get_ingestion_status(
        &self,
        _request: Request<pb::GetIngestionStatusRequest>,
    ) -> Reply<pb::GetIngestionStatusResponse> {
        self.get_ingestion_status_handler().await.map(Response::new).map_err(status)
    }

    async fn rebuild_projections(
        &self,
        request: Request<pb::RebuildProjectionsRequest>,
    ) -> Reply<pb::RebuildProjectionsResponse> {
        let note = audit::noted(&request);
        self.rebuild_projections_handler(request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
            .map_err(status)
    }
}
