//! Receipt handlers: issuing one, reading one, listing them, and the citizen's lookup.

use chrono::{DateTime, Utc};
use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller, paging};
use motcua_proto::motcua::receipt::v1 as pb;
use prost::Message;

use super::{ReceiptApi, convert, decode, events, today, validate::Violations};
use crate::{
    domain::{
        lookup,
        receipt::{Content, Issued, Receipt, ReceiptState, Relation},
        series::{ReceiptKind, Series},
        words::amount_in_words,
    },
    store::{
        Effects, Outcome,
        numbering::Order,
        receipts::{self as store, RECEIPT_TYPE, ReceiptFilter},
        series::{self as series_store, SERIES_TYPE},
    },
};

/// What a new receipt says besides its content: for a correction, what it corrects and why.
pub(super) struct Correction {
    /// Replacement or adjustment.
    pub relation: Relation,
    /// The receipt it corrects.
    pub original_receipt_id: String,
    /// Why.
    pub reason: String,
}

/// The receipt `build` makes for a number of `series`: the content with its totals, a fresh id and
/// lookup code, and for a correction its reference.
pub(super) fn issued(
    series: &Series,
    number: i64,
    content: &Content,
    correction: Option<&Correction>,
    issue_time: DateTime<Utc>,
) -> Result<Issued, ApiError> {
    let total = content
        .total()
        .ok_or_else(|| ApiError::invalid("TOTAL_TOO_LARGE", "content.items", "the total is too large"))?;
    Ok(Issued {
        receipt_id: uuid::Uuid::new_v4().to_string(),
        series_id: series.series_id.clone(),
        kind: series.kind,
        branch_code: series.branch_code.clone(),
        template_symbol: series.template_symbol.clone(),
        series_symbol: series.series_symbol.clone(),
        number,
        content: content.clone(),
        total,
        total_in_words: amount_in_words(total.unsigned_abs()),
        lookup_code: lookup::new_code(),
        relation: correction.map_or(Relation::Original, |correction| correction.relation),
        original_receipt_id: correction.map(|correction| correction.original_receipt_id.clone()),
        correction_reason: correction.map(|correction| correction.reason.clone()).unwrap_or_default(),
        issue_time,
    })
}

impl ReceiptApi {
    /// The series `name` names, read to validate a request against its kind and branch (which never
    /// change); the issuing transaction reads it again.
    pub(super) async fn series_named(&self, field: &str, name: &str) -> Result<Series, ApiError> {
        let mut violations = Violations::default();
        let series_id = violations.name(field, name, "series");
        violations.finish()?;
        series_store::find(&self.state.db, series_id.unwrap_or_default())
            .await?
            .ok_or_else(|| ApiError::not_found(SERIES_TYPE, name.to_owned()))
    }

    pub(super) async fn issue_receipt_handler(
        &self,
        caller: Caller,
        request: pb::IssueReceiptRequest,
    ) -> Result<pb::IssueReceiptResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "IssueReceipt", &request.encode_to_vec())?;
        if let Some(response) = motcua_chassis::idempotency::replay(&self.state.db, &key).await? {
            return decode(&response);
        }
        let series = self.series_named("series", &request.series).await?;
        caller.check_branch(&series.branch_code)?;
        let mut violations = Violations::default();
        let content = violations.content("content", series.kind, request.content, today(&self.state.clock));
        if content.as_ref().is_some_and(|content| content.total().is_none()) {
            violations.add("content.items", "the total is too large");
        }
        violations.finish()?;
        let Some(content) = content else { return Err(ApiError::internal("validation passed without content")) };
        let request_id = key.request_id().to_owned();
        let clock = self.state.clock.clone();
        let order = Order {
            series_id: series.series_id.clone(),
            issue_date: content.issue_date,
            today: today(&self.state.clock),
            key,
            build: Box::new(move |series: &Series, number: i64| issued(series, number, &content, None, clock.now())),
            effects: Box::new(move |receipt: &Receipt| Effects {
                response: pb::IssueReceiptResponse { receipt: Some(convert::receipt(receipt)) }.encode_to_vec(),
                events: vec![events::issued(receipt, None, &request_id, receipt.issued.issue_time)],
            }),
        };
        match self.state.numbering.issue(order).await? {
            Outcome::Done(receipt) => {
                self.committed();
                tracing::info!(
                    series = %receipt.issued.series_id,
                    number = receipt.issued.number,
                    dossier_code = %receipt.issued.content.dossier_code,
                    "receipt issued"
                );
                Ok(pb::IssueReceiptResponse { receipt: Some(convert::receipt(&receipt)) })
            }
            Outcome::Replayed(response) => decode(&response),
        }
    }

    /// After a commit that appended events and may have left a signature pending.
    pub(super) fn committed(&self) {
        self.state.feed.appended();
        self.state.signing_due.notify_one();
    }

    pub(super) async fn receipt_named(&self, field: &str, name: &str) -> Result<Receipt, ApiError> {
        let mut violations = Violations::default();
        let receipt_id = violations.name(field, name, "receipts");
        violations.finish()?;
        store::find(&self.state.db, receipt_id.unwrap_or_default())
            .await?
            .map(|record| record.receipt)
            .ok_or_else(|| ApiError::not_found(RECEIPT_TYPE, name.to_owned()))
    }

    /// A receipt, to a caller that may act for its branch: its payer is personal data.
    pub(super) async fn get_receipt_handler(
        &self,
        caller: Caller,
        request: pb::GetReceiptRequest,
    ) -> Result<pb::Receipt, ApiError> {
        let receipt = self.receipt_named("name", &request.name).await?;
        caller.check_branch(&receipt.issued.branch_code)?;
        Ok(convert::receipt(&receipt))
    }

    /// Receipts matching the request's filters, of the branches the caller may act for.
    pub(super) async fn list_receipts_handler(
        &self,
        caller: Caller,
        request: pb::ListReceiptsRequest,
    ) -> Result<pb::ListReceiptsResponse, ApiError> {
        let page_size = paging::page_size(request.page_size)?;
        let mut violations = Violations::default();
        let series_id = if request.series.is_empty() {
            None
        } else {
            violations.name("series", &request.series, "series").map(str::to_owned)
        };
        let issue_date_from = violations.date("issue_date_from", request.issue_date_from.as_ref());
        let issue_date_to = violations.date("issue_date_to", request.issue_date_to.as_ref());
        violations.code("dossier_code", &request.dossier_code, 80, false);
        let kind = match request.kind {
            0 => None,
            code => {
                let kind = ReceiptKind::from_code(code);
                if kind.is_none() {
                    violations.add("kind", "not a receipt kind");
                }
                kind
            }
        };
        let state = match request.state {
            0 => None,
            code => {
                let state = ReceiptState::from_code(code);
                if state.is_none() {
                    violations.add("state", "not a receipt state");
                }
                state
            }
        };
        violations.finish()?;
        let filter = ReceiptFilter {
            series_id,
            issue_date_from,
            issue_date_to,
            dossier_code: Some(request.dossier_code).filter(|code| !code.is_empty()),
            kind,
            state,
            branch_codes: caller.branches.clone(),
        };
        let filter_text = format!("{filter:?}");
        let before_id = match paging::decode_token(&request.page_token, &filter_text)? {
            None => None,
            Some(id) => Some(id.parse::<i64>().map_err(|_| {
                ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
            })?),
        };
        let mut records = store::list(&self.state.db, &filter, before_id, page_size + 1).await?;
        let next_page_token = if records.len() as u64 > page_size {
            records.truncate(page_size as usize);
            records.last().map(|last| paging::encode_token(&last.id.to_string(), &filter_text)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListReceiptsResponse {
            receipts: records.iter().map(|record| convert::receipt(&record.receipt)).collect(),
            next_page_token,
        })
    }

    pub(super) async fn lookup_receipt_handler(
        &self,
        request: pb::LookupReceiptRequest,
    ) -> Result<pb::LookupReceiptResponse, ApiError> {
        // Every miss is the same NOT_FOUND, whatever the reason, and never echoes the code.
        let not_found = || ApiError::not_found(RECEIPT_TYPE, "lookup code");
        let Some(code) = lookup::normalise(&request.lookup_code) else { return Err(not_found()) };
        let Some(receipt) = store::find_by_lookup_code(&self.state.db, &code).await? else { return Err(not_found()) };
        let original = match &receipt.issued.original_receipt_id {
            Some(id) => store::find(&self.state.db, id).await?.map(|record| record.receipt),
            None => None,
        };
        let replacement = match &receipt.corrections.replaced_by {
            Some(id) => store::find(&self.state.db, id).await?.map(|record| record.receipt),
            None => None,
        };
        Ok(pb::LookupReceiptResponse {
            receipt: Some(convert::public_receipt(&receipt, original.as_ref(), replacement.as_ref())),
        })
    }
}
