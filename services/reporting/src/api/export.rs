//! `ExportReport`: a report as CSV, streamed in chunks of whole lines — one row per day and
//! dimensions, per branch, or per branch and indicator of the Decision 766 index.

use std::sync::Arc;

use chrono::NaiveDate;
use motcua_chassis::ApiError;
use motcua_proto::motcua::reporting::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{ReportingState, convert, database, status};
use crate::{
    domain::{csv, index, metrics::Totals},
    store::rollups,
};

/// The stream `ExportReport` answers with.
pub type ExportStream = tonic::codegen::BoxStream<pb::ExportReportResponse>;

/// Bytes per chunk, about.
const CHUNK: usize = 64 * 1024;

/// The counters of `Counters` a CSV row carries, in column order (processing time and the amount
/// follow separately).
const COUNTER_COLUMNS: [&str; 32] = [
    "received",
    "received_online",
    "accepted",
    "refused",
    "resolved_on_time",
    "resolved_late",
    "returned",
    "withdrawn",
    "stopped",
    "in_processing_now",
    "overdue_now",
    "supplement_requests",
    "apologies",
    "fee_receipts_issued",
    "fee_receipts_cancelled",
    "fee_receipts_paid_online",
    "acknowledgement_slips_issued",
    "signatures",
    "seals",
    "resolved_signed_and_sealed",
    "electronic_results",
    "digitized_dossiers",
    "reusing_dossiers",
    "reused_documents",
    "ratings_satisfied",
    "ratings_neutral",
    "ratings_dissatisfied",
    "complaints",
    "suggestions",
    "complained_or_dissatisfied_dossiers",
    "dossier_slips_issued",
    "dossier_fee_receipts_issued",
];

/// The value of the integer counter `field` of `counters`.
pub fn counter_value(counters: &pb::Counters, field: &str) -> Option<i64> {
    Some(match field {
        "received" => counters.received,
        "received_online" => counters.received_online,
        "accepted" => counters.accepted,
        "refused" => counters.refused,
        "resolved_on_time" => counters.resolved_on_time,
        "resolved_late" => counters.resolved_late,
        "returned" => counters.returned,
        "withdrawn" => counters.withdrawn,
        "stopped" => counters.stopped,
        "in_processing_now" => counters.in_processing_now,
        "overdue_now" => counters.overdue_now,
        "supplement_requests" => counters.supplement_requests,
        "apologies" => counters.apologies,
        "fee_receipts_issued" => counters.fee_receipts_issued,
        "fee_receipts_cancelled" => counters.fee_receipts_cancelled,
        "fee_receipts_paid_online" => counters.fee_receipts_paid_online,
        "acknowledgement_slips_issued" => counters.acknowledgement_slips_issued,
        "signatures" => counters.signatures,
        "seals" => counters.seals,
        "resolved_signed_and_sealed" => counters.resolved_signed_and_sealed,
        "electronic_results" => counters.electronic_results,
        "digitized_dossiers" => counters.digitized_dossiers,
        "reusing_dossiers" => counters.reusing_dossiers,
        "reused_documents" => counters.reused_documents,
        "ratings_satisfied" => counters.ratings_satisfied,
        "ratings_neutral" => counters.ratings_neutral,
        "ratings_dissatisfied" => counters.ratings_dissatisfied,
        "complaints" => counters.complaints,
        "suggestions" => counters.suggestions,
        "complained_or_dissatisfied_dossiers" => counters.complained_or_dissatisfied_dossiers,
        "dossier_slips_issued" => counters.dossier_slips_issued,
        "dossier_fee_receipts_issued" => counters.dossier_fee_receipts_issued,
        _ => return None,
    })
}

fn counter_fields(totals: &Totals) -> Vec<String> {
    let counters = convert::counters(totals);
    let mut fields: Vec<String> =
        COUNTER_COLUMNS.iter().map(|field| counter_value(&counters, field).unwrap_or(0).to_string()).collect();
    let time = counters.processing_time.unwrap_or_default();
    fields.push(time.count.to_string());
    fields.push(time.total.map_or(0, |total| total.seconds).to_string());
    fields.push(counters.amount_collected.map_or(0, |money| money.dong).to_string());
    fields
}

fn counter_header() -> Vec<String> {
    let mut header: Vec<String> = COUNTER_COLUMNS.iter().map(|field| (*field).to_owned()).collect();
    header.extend(["processing_count", "processing_seconds", "amount_collected_dong"].map(str::to_owned));
    header
}

/// Checks the request and starts the stream.
pub async fn export(state: Arc<ReportingState>, request: pb::ExportReportRequest) -> Result<ExportStream, ApiError> {
    let (first, last) = convert::period(request.period.as_ref(), "period")?;
    let filter = convert::filter(&request.branch_code, &request.procedure_code, request.level, request.channel)?;
    let kind = pb::ReportKind::try_from(request.kind).unwrap_or(pb::ReportKind::Unspecified);
    let file_stem = match kind {
        pb::ReportKind::DailyRollups => "bao-cao-theo-ngay",
        pb::ReportKind::BranchStats => "bao-cao-chi-nhanh",
        pb::ReportKind::ServiceIndex => "chi-so-766",
        pb::ReportKind::Unspecified => {
            return Err(ApiError::invalid(
                "INVALID_REPORT_KIND",
                "kind",
                "must be DAILY_ROLLUPS, BRANCH_STATS or SERVICE_INDEX",
            ));
        }
    };
    let file_name = format!("{file_stem}-{first}-{last}.csv");
    let (sender, receiver) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut writer = ChunkWriter { sender, buffer: csv::BOM.to_vec(), file_name: Some(file_name) };
        let written = match kind {
            pb::ReportKind::DailyRollups => daily(&state, first, last, &filter, &mut writer).await,
            pb::ReportKind::BranchStats => branches(&state, first, last, &filter, &mut writer).await,
            _ => indicators(&state, first, last, &filter, &mut writer).await,
        };
        match written {
            Ok(()) => writer.flush().await,
            Err(error) => {
                let _ = writer.sender.send(Err(status(error))).await;
            }
        }
    });
    Ok(Box::pin(ReceiverStream::new(receiver)))
}

/// Collects lines into chunks and sends them.
struct ChunkWriter {
    sender: mpsc::Sender<Result<pb::ExportReportResponse, Status>>,
    buffer: Vec<u8>,
    file_name: Option<String>,
}

impl ChunkWriter {
    async fn line<S: AsRef<str>>(&mut self, fields: &[S]) {
        self.buffer.extend_from_slice(csv::record(fields).as_bytes());
        if self.buffer.len() >= CHUNK {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let chunk = pb::ExportReportResponse {
            file_name: self.file_name.take().unwrap_or_default(),
            data: std::mem::take(&mut self.buffer),
        };
        let _ = self.sender.send(Ok(chunk)).await;
    }
}

async fn daily(
    state: &ReportingState,
    first: NaiveDate,
    last: NaiveDate,
    filter: &rollups::Filter,
    writer: &mut ChunkWriter,
) -> Result<(), ApiError> {
    let mut header: Vec<String> =
        ["day", "branch_code", "procedure_code", "level", "channel"].map(str::to_owned).to_vec();
    header.extend(counter_header());
    writer.line(&header).await;
    let mut day = first;
    while day <= last {
        for (dims, flows) in rollups::day_rows(&state.jobs.db, day, filter).await.map_err(database)? {
            let totals = Totals { flows, ..Totals::default() };
            let mut fields = vec![
                day.to_string(),
                dims.branch_code,
                dims.procedure_code,
                dims.level.to_string(),
                dims.channel.to_string(),
            ];
            fields.extend(counter_fields(&totals));
            writer.line(&fields).await;
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Ok(())
}

async fn branches(
    state: &ReportingState,
    first: NaiveDate,
    last: NaiveDate,
    filter: &rollups::Filter,
    writer: &mut ChunkWriter,
) -> Result<(), ApiError> {
    let mut header: Vec<String> = ["branch_code", "branch_name"].map(str::to_owned).to_vec();
    header.extend(counter_header());
    header.extend(
        [
            "on_time_percent",
            "online_submission_percent",
            "digitized_percent",
            "satisfaction_percent",
            "service_index_score",
        ]
        .map(str::to_owned),
    );
    writer.line(&header).await;
    for (branch_code, totals) in state.totals_by_branch(first, last, filter).await? {
        let rates = totals.rates();
        let score = index::compute(&totals, &state.weights).score;
        let mut fields = vec![branch_code.clone(), state.branch_names.name(&branch_code).await];
        fields.extend(counter_fields(&totals));
        for value in [
            rates.on_time_percent,
            rates.online_submission_percent,
            rates.digitized_percent,
            rates.satisfaction_percent,
            score,
        ] {
            fields.push(format!("{value:.2}"));
        }
        writer.line(&fields).await;
    }
    Ok(())
}

async fn indicators(
    state: &ReportingState,
    first: NaiveDate,
    last: NaiveDate,
    filter: &rollups::Filter,
    writer: &mut ChunkWriter,
) -> Result<(), ApiError> {
    writer
        .line(&[
            "branch_code",
            "group",
            "indicator",
            "name",
            "value",
            "unit",
            "numerator",
            "denominator",
            "score",
            "max_points",
            "available",
            "formula",
        ])
        .await;
    let by_branch = state.totals_by_branch(first, last, filter).await?;
    for (branch_code, totals) in by_branch {
        let computed = index::compute(&totals, &state.weights);
        for group in &computed.groups {
            for indicator in &group.indicators {
                writer
                    .line(&[
                        branch_code.clone(),
                        group.code.to_owned(),
                        indicator.code.to_owned(),
                        indicator.name.to_owned(),
                        format!("{:.4}", indicator.value),
                        indicator.unit.to_owned(),
                        format!("{}", indicator.numerator),
                        format!("{}", indicator.denominator),
                        format!("{:.4}", indicator.score),
                        format!("{}", indicator.max_points),
                        indicator.available.to_string(),
                        indicator.formula.to_owned(),
                    ])
                    .await;
            }
        }
    }
    Ok(())
}
