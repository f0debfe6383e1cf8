//! Conversions between reporting's domain and its protobuf messages, and the reading of requests'
//! periods and filters.

use chrono::NaiveDate;
use motcua_chassis::{ApiError, validate::Violations};
use motcua_proto::{
    google::r#type::Date,
    motcua::{common::v1 as common, reporting::v1 as pb},
};

use crate::{
    domain::{
        index,
        metrics::{HISTOGRAM_BOUNDS_SECONDS, Rates, Totals, metric, quantile_seconds},
        period::{self, PeriodKind},
    },
    store::rollups::Filter,
};

/// The ErrorInfo reason of a period that is not one.
const INVALID_PERIOD: &str = "INVALID_PERIOD";

/// The longest branch or procedure code a filter names: longer than any the services issue.
const MAX_FILTER_CODE: usize = 64;

/// The protobuf date of `day`.
pub fn date(day: NaiveDate) -> Date {
    motcua_chassis::validate::date_to_proto(day)
}

/// Reads a request's period (field `field`) as its first and last day.
pub fn period(period: Option<&pb::Period>, field: &str) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let period = period.ok_or_else(|| ApiError::invalid(INVALID_PERIOD, field, "required"))?;
    let mut violations = Violations::default();
    let kind = match pb::PeriodKind::try_from(period.kind) {
        Ok(pb::PeriodKind::Day) => Some(PeriodKind::Day),
        Ok(pb::PeriodKind::Month) => Some(PeriodKind::Month),
        Ok(pb::PeriodKind::Quarter) => Some(PeriodKind::Quarter),
        Ok(pb::PeriodKind::Year) => Some(PeriodKind::Year),
        Ok(pb::PeriodKind::Custom) => Some(PeriodKind::Custom),
        _ => {
            violations.add(format!("{field}.kind"), "must be DAY, MONTH, QUARTER, YEAR or CUSTOM");
            None
        }
    };
    let start = violations.required_date(&format!("{field}.date"), period.date.as_ref());
    let end = violations.date(&format!("{field}.end_date"), period.end_date.as_ref());
    violations.finish_as(INVALID_PERIOD)?;
    let (Some(kind), Some(start)) = (kind, start) else {
        return Err(ApiError::internal("a period passed its checks without a kind or a first day"));
    };
    period::bounds(kind, start, end)
        .map_err(|error| ApiError::invalid(INVALID_PERIOD, format!("{field}.end_date"), error.to_string()))
}

/// Reads the dimension filters every query shares: codes as every service writes them, and the
/// contract's enums.
pub fn filter(branch_code: &str, procedure_code: &str, level: i32, channel: i32) -> Result<Filter, ApiError> {
    let mut violations = Violations::default();
    violations.code("branch_code", branch_code, MAX_FILTER_CODE, false);
    violations.code("procedure_code", procedure_code, MAX_FILTER_CODE, false);
    if common::ImplementationLevel::try_from(level).is_err() {
        violations.add("level", "not an ImplementationLevel");
    }
    if common::Channel::try_from(channel).is_err() {
        violations.add("channel", "not a Channel");
    }
    violations.finish_as("INVALID_FILTER")?;
    let given = |code: &str| (!code.is_empty()).then(|| code.to_owned());
    Ok(Filter {
        branch_code: given(branch_code),
        procedure_code: given(procedure_code),
        level: (level != 0).then_some(level),
        channel: (channel != 0).then_some(channel),
    })
}

fn duration(seconds: i64) -> prost_types::Duration {
    prost_types::Duration { seconds, nanos: 0 }
}

/// The counters as the contract has them.
pub fn counters(totals: &Totals) -> pb::Counters {
    let histogram = totals.histogram();
    let count = totals.get(metric::PROCESSING_COUNT);
    let total_seconds = totals.get(metric::PROCESSING_SECONDS);
    let quantile = |q| quantile_seconds(&histogram, q).map(duration);
    let buckets = histogram
        .iter()
        .enumerate()
        .map(|(index, count)| pb::HistogramBucket {
            upper_bound: HISTOGRAM_BOUNDS_SECONDS.get(index).copied().map(duration),
            count: *count,
        })
        .collect();
    pb::Counters {
        received: totals.get(metric::RECEIVED),
        received_online: totals.get(metric::RECEIVED_ONLINE),
        accepted: totals.get(metric::ACCEPTED),
        refused: totals.get(metric::REFUSED),
        resolved_on_time: totals.get(metric::RESOLVED_ON_TIME),
        resolved_late: totals.get(metric::RESOLVED_LATE),
        returned: totals.get(metric::RETURNED),
        withdrawn: totals.get(metric::WITHDRAWN),
        stopped: totals.get(metric::STOPPED),
        in_processing_now: totals.in_processing_now,
        overdue_now: totals.overdue_now,
        supplement_requests: totals.get(metric::SUPPLEMENT_REQUESTS),
        apologies: totals.get(metric::APOLOGIES),
        processing_time: Some(pb::ProcessingTime {
            count,
            total: Some(duration(total_seconds)),
            mean: Some(duration(if count > 0 { total_seconds / count } else { 0 })),
            p50: quantile(0.5),
            p90: quantile(0.9),
            p99: quantile(0.99),
            buckets,
        }),
        fee_receipts_issued: totals.get(metric::FEE_RECEIPTS_ISSUED),
        fee_receipts_cancelled: totals.get(metric::FEE_RECEIPTS_CANCELLED),
        fee_receipts_paid_online: totals.get(metric::FEE_RECEIPTS_PAID_ONLINE),
        amount_collected: Some(common::Money { dong: totals.get(metric::AMOUNT_COLLECTED) }),
        acknowledgement_slips_issued: totals.get(metric::ACKNOWLEDGEMENT_SLIPS_ISSUED),
        signatures: totals.get(metric::SIGNATURES),
        seals: totals.get(metric::SEALS),
        resolved_signed_and_sealed: totals.get(metric::RESOLVED_SIGNED_AND_SEALED),
        electronic_results: totals.get(metric::ELECTRONIC_RESULTS),
        digitized_dossiers: totals.get(metric::DIGITIZED_DOSSIERS),
        reusing_dossiers: totals.get(metric::REUSING_DOSSIERS),
        reused_documents: totals.get(metric::REUSED_DOCUMENTS),
        ratings_satisfied: totals.get(metric::RATINGS_SATISFIED),
        ratings_neutral: totals.get(metric::RATINGS_NEUTRAL),
        ratings_dissatisfied: totals.get(metric::RATINGS_DISSATISFIED),
        complaints: totals.get(metric::COMPLAINTS),
        suggestions: totals.get(metric::SUGGESTIONS),
        dossier_slips_issued: totals.get(metric::DOSSIER_SLIPS_ISSUED),
        dossier_fee_receipts_issued: totals.get(metric::DOSSIER_FEE_RECEIPTS_ISSUED),
        complained_or_dissatisfied_dossiers: totals.get(metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS),
    }
}

/// The rates as the contract has them.
pub fn rates(rates: &Rates) -> pb::Rates {
    pb::Rates {
        on_time_percent: rates.on_time_percent,
        online_submission_percent: rates.online_submission_percent,
        online_payment_percent: rates.online_payment_percent,
        digitized_percent: rates.digitized_percent,
        reuse_percent: rates.reuse_percent,
        electronic_result_percent: rates.electronic_result_percent,
        signed_and_sealed_percent: rates.signed_and_sealed_percent,
        satisfaction_percent: rates.satisfaction_percent,
    }
}

/// The index as the contract has it.
pub fn service_index(
    index: &index::ServiceIndex,
    branch_code: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> pb::ServiceIndex {
    pb::ServiceIndex {
        branch_code: branch_code.to_owned(),
        first_day: Some(date(first)),
        last_day: Some(date(last)),
        score: index.score,
        max_points: index.max_points,
        measured_max_points: index.measured_max_points,
        groups: index
            .groups
            .iter()
            .map(|group| pb::IndicatorGroup {
                code: group.code.to_owned(),
                name: group.name.to_owned(),
                score: group.score,
                max_points: group.max_points,
                indicators: group
                    .indicators
                    .iter()
                    .map(|indicator| pb::Indicator {
                        code: indicator.code.to_owned(),
                        name: indicator.name.to_owned(),
                        value: indicator.value,
                        unit: indicator.unit.to_owned(),
                        numerator: indicator.numerator,
                        denominator: indicator.denominator,
                        score: indicator.score,
                        max_points: indicator.max_points,
                        formula: indicator.formula.to_owned(),
                        available: indicator.available,
                    })
                    .collect(),
            })
            .collect(),
    }
}
