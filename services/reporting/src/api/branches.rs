//! `ListBranchStats`: one row of counters, rates and index score per branch the caller may see, sorted
//! by any counter or rate and paged.

use motcua_chassis::{ApiError, identity::Caller, paging};
use motcua_proto::motcua::reporting::v1 as pb;

use super::{ReportingApi, convert, export};
use crate::domain::index;

impl ReportingApi {
    pub(super) async fn list_branch_stats_handler(
        &self,
        caller: Caller,
        request: pb::ListBranchStatsRequest,
    ) -> Result<pb::ListBranchStatsResponse, ApiError> {
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
            rows.push(pb::BranchStats {
                branch_name: self.state.branch_names.name(&branch_code).await,
                branch_code,
                counters: Some(convert::counters(&totals)),
                rates: Some(convert::rates(&totals.rates())),
                service_index_score: score,
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
            let by_code = a.branch_code.cmp(&b.branch_code);
            by_field.then(if field == "branch_code" && descending { by_code.reverse() } else { by_code })
        });
        let page_size = usize::try_from(page_size).unwrap_or(usize::MAX);
        let end = offset.saturating_add(page_size).min(rows.len());
        let next_page_token =
            if end < rows.len() { paging::encode_token(&end.to_string(), &fingerprint) } else { String::new() };
        let branch_stats = rows.into_iter().skip(offset).take(page_size).collect();
        Ok(pb::ListBranchStatsResponse {
            branch_stats,
            next_page_token,
            first_day: Some(convert::date(first)),
            last_day: Some(convert::date(last)),
        })
    }
}

/// The value of `field` in a branch row, for sorting; `None` for an unknown field.
fn sort_value(row: &pb::BranchStats, field: &str) -> Option<f64> {
    if field == "service_index_score" {
        return Some(row.service_index_score);
    }
    let rates = row.rates.as_ref()?;
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
    let counters = row.counters.as_ref()?;
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
