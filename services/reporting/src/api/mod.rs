//! The reporting service's gRPC handlers: requests to domain and store, answers back to the contract.
//! Every query answers from the rollups.

pub mod audit;
mod convert;
mod export;

use std::{collections::BTreeMap, sync::Arc};

use chrono::NaiveDate;
use motcua_chassis::{ApiError, ServiceKind, identity::Caller, paging, timestamps};
use motcua_proto::motcua::reporting::v1::{self as pb, reporting_service_server::ReportingService};
use prost::Message as _;
use sea_orm::TransactionTrait as _;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        index::{self, Weights},
        metrics::Totals,
    },
    feeds::FeedName,
    jobs::{self, Jobs},
    store::{cursors, rebuilds, rollups},
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

/// One branch row, with the value `order_by` sorts it by.
struct BranchRow {
    stats: pb::BranchStats,
}

/// The value of `field` in a branch row, for sorting; `None` for an unknown field.
fn sort_value(row: &BranchRow, field: &str) -> Option<f64> {
    if field == "service_index_score" {
        return Some(row.stats.service_index_score);
    }
    let rates = row.stats.rates.as_ref()?;
    let rate = match field {
        "on_time_percent" => Some(rates.on_time_percent),
        "online_submission_percent" => Some(rates.online_submission_percent),
        "online_payment_percent" => Some(rates.online_payment_percent),
        "digitized_percent" => Some(rates.digitized_percent),
        "reuse_percent" => Some(rates.reuse_percent),
        "electronic_result_percent" => Some(rates.electronic_result_percent),
        "signed_and_sealed_percent" => Some(rates.signed_and_sealed_percent),
        "satisfaction_percent" => Some(rates.satisfaction_percent),
        _ => None,
    };
    if rate.is_some() {
        return rate;
    }
    let counters = row.stats.counters.as_ref()?;
    if field == "processing_time_mean" {
        return counters.processing_time.as_ref().and_then(|time| time.mean.as_ref()).map(|mean| mean.seconds as f64);
    }
    if field == "amount_collected" {
        return counters.amount_collected.as_ref().map(|money| money.dong as f64);
    }
    export::counter_value(counters, field).map(|value| value as f64)
}

/// Reads `order_by`: a field and whether descending.
fn order(order_by: &str) -> Result<(String, bool), ApiError> {
    let invalid = |description: &str| ApiError::invalid("INVALID_ORDER_BY", "order_by", description);
    let mut words = order_by.split_whitespace();
    let field = words.next().unwrap_or("branch_code").to_owned();
    let descending = match words.next() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(invalid("a field name, optionally followed by asc or desc")),
    };
    if words.next().is_some() {
        return Err(invalid("one field only"));
    }
    Ok((field, descending))
}

#[tonic::async_trait]
impl ReportingService for ReportingApi {
    async fn get_summary(&self, request: Request<pb::GetSummaryRequest>) -> Reply<pb::GetSummaryResponse> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let result = async {
            check_branch(&caller, &request.branch_code)?;
            let (first, last) = convert::period(request.period.as_ref(), "period")?;
            let filter =
                convert::filter(&request.branch_code, &request.procedure_code, request.level, request.channel)?;
            let totals =
                rollups::totals(&self.state.jobs.db, first, last, &filter, self.state.clock.now().timestamp_millis())
                    .await
                    .map_err(database)?;
            Ok(pb::GetSummaryResponse {
                first_day: Some(convert::date(first)),
                last_day: Some(convert::date(last)),
                counters: Some(convert::counters(&totals)),
                rates: Some(convert::rates(&totals.rates())),
                data_time: self.state.data_time().await?,
            })
        };
        result.await.map(Response::new).map_err(status)
    }

    async fn list_branch_stats(
        &self,
        request: Request<pb::ListBranchStatsRequest>,
    ) -> Reply<pb::ListBranchStatsResponse> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let result = async {
            let page_size = paging::page_size(request.page_size)?;
            let (first, last) = convert::period(request.period.as_ref(), "period")?;
            let filter = convert::filter("", &request.procedure_code, request.level, request.channel)?;
            let (field, descending) = order(&request.order_by)?;
            let fingerprint = format!("{first}|{last}|{filter:?}|{}", request.order_by);
            let offset: usize = match paging::decode_token(&request.page_token, &fingerprint)? {
                Some(offset) => offset.parse().map_err(|_| {
                    ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
                })?,
                None => 0,
            };
            let mut rows = Vec::new();
            for (branch_code, totals) in self.state.totals_by_branch(first, last, &filter).await? {
                // A caller limited to some branches sees their rows only.
                if !caller.may_act_for_branch(&branch_code) {
                    continue;
                }
                let score = index::compute(&totals, &self.state.weights).score;
                rows.push(BranchRow {
                    stats: pb::BranchStats {
                        branch_name: self.state.branch_names.name(&branch_code).await,
                        branch_code,
                        counters: Some(convert::counters(&totals)),
                        rates: Some(convert::rates(&totals.rates())),
                        service_index_score: score,
                    },
                });
            }
            if field != "branch_code" && rows.first().is_some_and(|row| sort_value(row, &field).is_none()) {
                return Err(ApiError::invalid(
                    "INVALID_ORDER_BY",
                    "order_by",
                    format!("{field} is not a counter, a rate, service_index_score or branch_code"),
                ));
            }
            rows.sort_by(|a, b| {
                let by_field = if field == "branch_code" {
                    std::cmp::Ordering::Equal
                } else {
                    sort_value(a, &field).partial_cmp(&sort_value(b, &field)).unwrap_or(std::cmp::Ordering::Equal)
                };
                let by_field = if descending { by_field.reverse() } else { by_field };
                let by_code = a.stats.branch_code.cmp(&b.stats.branch_code);
                by_field.then(if field == "branch_code" && descending { by_code.reverse() } else { by_code })
            });
            let page_size = usize::try_from(page_size).unwrap_or(usize::MAX);
            let end = offset.saturating_add(page_size).min(rows.len());
            let next_page_token =
                if end < rows.len() { paging::encode_token(&end.to_string(), &fingerprint) } else { String::new() };
            let branch_stats = rows.into_iter().skip(offset).take(page_size).map(|row| row.stats).collect();
            Ok(pb::ListBranchStatsResponse {
                branch_stats,
                next_page_token,
                first_day: Some(convert::date(first)),
                last_day: Some(convert::date(last)),
            })
        };
        result.await.map(Response::new).map_err(status)
    }

    async fn get_service_index(
        &self,
        request: Request<pb::GetServiceIndexRequest>,
    ) -> Reply<pb::GetServiceIndexResponse> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let result = async {
            check_branch(&caller, &request.branch_code)?;
            let (first, last) = convert::period(request.period.as_ref(), "period")?;
            let filter = convert::filter(&request.branch_code, "", 0, 0)?;
            let totals =
                rollups::totals(&self.state.jobs.db, first, last, &filter, self.state.clock.now().timestamp_millis())
                    .await
                    .map_err(database)?;
            let computed = index::compute(&totals, &self.state.weights);
            Ok(pb::GetServiceIndexResponse {
                service_index: Some(convert::service_index(&computed, &request.branch_code, first, last)),
            })
        };
        result.await.map(Response::new).map_err(status)
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
        let result = async {
            let rows = cursors::read_all(&self.state.jobs.db).await.map_err(database)?;
            let now = crate::jobs::now_ms();
            let mut feeds = Vec::new();
            for feed in FeedName::ALL {
                let Some(row) = rows.iter().find(|row| row.feed == feed.as_str()) else { continue };
                let local = self.state.jobs.follower(feed);
                let head = row.head.max(local.head).max(row.cursor);
                let lag_events = head - row.cursor;
                let lag_seconds = match (lag_events, row.last_event_ms) {
                    (0, _) | (_, None) => 0.0,
                    (_, Some(last_event)) => ((now - last_event).max(0) as f64) / 1000.0,
                };
                let leads = row.holder == self.state.jobs.holder;
                feeds.push(pb::FeedStatus {
                    feed: feed.to_proto() as i32,
                    source: self.state.jobs.sources.url(feed).to_owned(),
                    cursor: row.cursor,
                    head_sequence: head,
                    lag_events,
                    lag_seconds,
                    last_event_time: row.last_event_ms.and_then(timestamp),
                    last_apply_time: row.last_apply_ms.and_then(timestamp),
                    state: if leads || row.holder.is_empty() { local.state } else { pb::FollowerState::Standby } as i32,
                    leader: row.holder.clone(),
                    last_error_reason: if leads { local.last_error } else { row.last_error.clone() },
                });
            }
            let rebuild = rebuilds::latest(&self.state.jobs.db).await.map_err(database)?.map(|row| rebuild(&row));
            let branch_names = Some(self.state.branch_names.status().await);
            Ok(pb::GetIngestionStatusResponse { feeds, rebuild, branch_names })
        };
        result.await.map(Response::new).map_err(status)
    }

    async fn rebuild_projections(
        &self,
        request: Request<pb::RebuildProjectionsRequest>,
    ) -> Reply<pb::RebuildProjectionsResponse> {
        let note = audit::noted(&request);
        let request = request.into_inner();
        let result = async {
            if uuid::Uuid::parse_str(&request.request_id).is_err() {
                return Err(ApiError::invalid("INVALID_REQUEST_ID", "request_id", "must be a UUID"));
            }
            let db = &self.state.jobs.db;
            if let Some(existing) = rebuilds::by_request(db, &request.request_id).await.map_err(database)? {
                return Ok(pb::RebuildProjectionsResponse { rebuild: Some(rebuild(&existing)) });
            }
            let now = crate::jobs::now_ms();
            rebuilds::abandon_stale(db, now - 120_000, now).await.map_err(database)?;
            if let Some(running) = rebuilds::running(db).await.map_err(database)? {
                return Err(in_progress(&running));
            }
            let rebuild_id = uuid::Uuid::new_v4().to_string();
            // The rebuild's row and the call's audit record commit together.
            let transaction = db.begin().await.map_err(database)?;
            if let Err(error) = rebuilds::insert(&transaction, &rebuild_id, &request.request_id, now).await {
                let _ = transaction.rollback().await;
                // Another replica started one since the check above.
                return Err(match rebuilds::running(db).await.map_err(database)? {
                    Some(running) => in_progress(&running),
                    None => database(error),
                });
            }
            let started = rebuilds::by_request(&transaction, &request.request_id)
                .await
                .map_err(database)?
                .ok_or_else(|| ApiError::internal("the rebuild just recorded is missing"))?;
            let answer = pb::RebuildProjectionsResponse { rebuild: Some(rebuild(&started)) };
            motcua_chassis::audit::record_in(&transaction, &answer.encode_to_vec()).await.map_err(database)?;
            transaction.commit().await.map_err(database)?;
            tokio::spawn(jobs::rebuild(self.state.jobs.clone(), rebuild_id));
            Ok(answer)
        };
        result.await.map(|answer| Response::new(note.answered(answer))).map_err(status)
    }
}

fn in_progress(running: &rebuilds::RebuildRow) -> ApiError {
    ApiError::FailedPrecondition {
        reason: "REBUILD_IN_PROGRESS",
        violation_type: "REBUILD",
        subject: format!("rebuilds/{}", running.rebuild_id),
        description: "a rebuild is already running; follow it with GetIngestionStatus".to_owned(),
    }
}

fn rebuild(row: &rebuilds::RebuildRow) -> pb::Rebuild {
    pb::Rebuild {
        rebuild_id: row.rebuild_id.clone(),
        state: row.state,
        start_time: timestamp(row.start_ms),
        end_time: row.end_ms.and_then(timestamp),
        events_applied: row.events_applied,
        error_reason: row.error_reason.clone(),
    }
}
