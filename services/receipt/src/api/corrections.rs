//! Correction handlers: cancelling a receipt, replacing it by a new one, adjusting it by a new one
//! that carries the differences. Nothing is ever deleted.

use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller};
use motcua_proto::motcua::receipt::v1 as pb;
use prost::Message;

use super::{
    ReceiptApi, convert, decode, events,
    receipts::{Correction, issued},
    today,
    validate::Violations,
};
use crate::{
    domain::{
        receipt::{Cancellation, Content, Receipt, ReceiptState, Relation},
        series::Series,
    },
    store::{
        Effects, Outcome,
        receipts::{self as store, Issue},
    },
};

/// FAILED_PRECONDITION unless `original` may be corrected this way.
fn check_correctable(original: &Receipt, adjusting: bool) -> Result<(), ApiError> {
    original.check_correctable(adjusting).map_err(|refusal| ApiError::FailedPrecondition {
        reason: "RECEIPT_NOT_CORRECTABLE",
        violation_type: "STATE",
        subject: format!("receipts/{}", original.issued.receipt_id),
        description: refusal.0,
    })
}

/// INVALID_ARGUMENT unless `series` may number a correction of `original`: same branch, same kind.
fn check_series(series: &Series, original: &Receipt) -> Result<(), ApiError> {
    if series.branch_code != original.issued.branch_code || series.kind != original.issued.kind {
        return Err(ApiError::invalid(
            "SERIES_MISMATCH",
            "series",
            "must be a series of the original's branch and kind",
        ));
    }
    Ok(())
}

impl ReceiptApi {
    pub(super) async fn cancel_receipt_handler(
        &self,
        caller: Caller,
        request: pb::CancelReceiptRequest,
    ) -> Result<pb::CancelReceiptResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "CancelReceipt", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let receipt_id = violations.name("name", &request.name, "receipts").unwrap_or_default().to_owned();
        violations.text("reason", &request.reason, true);
        violations.code("officer_id", &request.officer_id, 64, true);
        violations.finish()?;
        if let Some(response) = motcua_chassis::idempotency::replay(&self.state.db, &key).await? {
            return decode(&response);
        }
        let original = self.receipt_named("name", &request.name).await?;
        caller.check_branch(&original.issued.branch_code)?;
        let now = self.state.clock.now();
        let mutate = |receipt: &mut Receipt| {
            check_correctable(receipt, false)?;
            receipt.state = ReceiptState::Cancelled;
            receipt.corrections.cancellation = Some(Cancellation {
                reason: request.reason.clone(),
                cancel_time: now,
                officer_id: request.officer_id.clone(),
            });
            Ok(())
        };
        let effects = |receipt: &Receipt| Effects {
            response: pb::CancelReceiptResponse { receipt: Some(convert::receipt(receipt)) }.encode_to_vec(),
            events: vec![events::cancelled(receipt, key.request_id(), now)],
        };
        match store::change(&self.state.db, &key, &receipt_id, mutate, effects).await? {
            Outcome::Done(receipt) => {
                self.state.feed.appended();
                tracing::info!(series = %receipt.issued.series_id, number = receipt.issued.number, "receipt cancelled");
                Ok(pb::CancelReceiptResponse { receipt: Some(convert::receipt(&receipt)) })
            }
            Outcome::Replayed(response) => decode(&response),
        }
    }

    pub(super) async fn replace_receipt_handler(
        &self,
        caller: Caller,
        request: pb::ReplaceReceiptRequest,
    ) -> Result<pb::ReplaceReceiptResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "ReplaceReceipt", &request.encode_to_vec())?;
        if let Some(response) = motcua_chassis::idempotency::replay(&self.state.db, &key).await? {
            return decode(&response);
        }
        let original = self.receipt_named("name", &request.name).await?;
        caller.check_branch(&original.issued.branch_code)?;
        let series = self.correction_series(&request.series, &original).await?;
        let mut violations = Violations::default();
        violations.text("reason", &request.reason, true);
        let content = violations.content("content", original.issued.kind, request.content, today(&self.state.clock));
        if content.as_ref().is_some_and(|content| content.total().is_none()) {
            violations.add("content.items", "the total is too large");
        }
        violations.finish()?;
        let Some(content) = content else { return Err(ApiError::internal("validation passed without content")) };
        let correction = Correction {
            relation: Relation::Replacement,
            original_receipt_id: original.issued.receipt_id.clone(),
            reason: request.reason.clone(),
        };
        let response = |replacement: &Receipt, original: &Receipt| pb::ReplaceReceiptResponse {
            original: Some(convert::receipt(original)),
            replacement: Some(convert::receipt(replacement)),
        };
        match self
            .correct(&key, &series, &original, &content, &correction, |new, original| {
                response(new, original).encode_to_vec()
            })
            .await?
        {
            Outcome::Done((replacement, original)) => Ok(response(&replacement, &original)),
            Outcome::Replayed(stored) => decode(&stored),
        }
    }

    pub(super) async fn adjust_receipt_handler(
        &self,
        caller: Caller,
        request: pb::AdjustReceiptRequest,
    ) -> Result<pb::AdjustReceiptResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "AdjustReceipt", &request.encode_to_vec())?;
        if let Some(response) = motcua_chassis::idempotency::replay(&self.state.db, &key).await? {
            return decode(&response);
        }
        let original = self.receipt_named("name", &request.name).await?;
        caller.check_branch(&original.issued.branch_code)?;
        let series = self.correction_series(&request.series, &original).await?;
        let mut violations = Violations::default();
        violations.text("reason", &request.reason, true);
        if request.items.is_empty() {
            violations.add("items", "at least one difference");
        }
        let items = violations.items("items", request.items, true);
        let collector = violations.collector("collector", request.collector);
        let issue_date =
            violations.date("issue_date", request.issue_date.as_ref()).unwrap_or_else(|| today(&self.state.clock));
        let content = Content { items, collector, issue_date, ..original.issued.content.clone() };
        if content.total().is_none() {
            violations.add("items", "the total is too large");
        }
        violations.finish()?;
        let correction = Correction {
            relation: Relation::Adjustment,
            original_receipt_id: original.issued.receipt_id.clone(),
            reason: request.reason.clone(),
        };
        let response = |adjustment: &Receipt, original: &Receipt| pb::AdjustReceiptResponse {
            original: Some(convert::receipt(original)),
            adjustment: Some(convert::receipt(adjustment)),
        };
        match self
            .correct(&key, &series, &original, &content, &correction, |new, original| {
                response(new, original).encode_to_vec()
            })
            .await?
        {
            Outcome::Done((adjustment, original)) => Ok(response(&adjustment, &original)),
            Outcome::Replayed(stored) => decode(&stored),
        }
    }

    /// The series a correction is numbered in: the one named, or the original's.
    async fn correction_series(&self, name: &str, original: &Receipt) -> Result<Series, ApiError> {
        let series = if name.is_empty() {
            self.series_named("series", &format!("series/{}", original.issued.series_id)).await?
        } else {
            self.series_named("series", name).await?
        };
        check_series(&series, original)?;
        Ok(series)
    }

    /// Issues the correction `correction` of `original` with `content` in `series`, and marks the
    /// original replaced or adjusted, in one transaction; `response` encodes the RPC's answer from the
    /// new receipt and the original as changed.
    async fn correct(
        &self,
        key: &RequestKey,
        series: &Series,
        original: &Receipt,
        content: &Content,
        correction: &Correction,
        response: impl Fn(&Receipt, &Receipt) -> Vec<u8>,
    ) -> Result<Outcome<(Receipt, Receipt)>, ApiError> {
        let adjusting = correction.relation == Relation::Adjustment;
        let build = |series: &Series, number: i64, original: Option<&Receipt>| {
            let original = original.ok_or_else(|| ApiError::internal("a correction without its original"))?;
            check_correctable(original, adjusting)?;
            check_series(series, original)?;
            issued(series, number, content, Some(correction), self.state.clock.now())
        };
        let effects = |new: &Receipt, changed: Option<&Receipt>| Effects {
            response: changed.map(|changed| response(new, changed)).unwrap_or_default(),
            events: vec![events::issued(new, changed, key.request_id(), new.issued.issue_time)],
        };
        let issue = Issue {
            series_id: &series.series_id,
            issue_date: content.issue_date,
            today: today(&self.state.clock),
            original_receipt_id: Some(&original.issued.receipt_id),
        };
        match store::issue(&self.state.db, key, issue, build, effects).await? {
            Outcome::Done((new, Some(changed))) => {
                self.committed();
                tracing::info!(
                    series = %new.issued.series_id,
                    number = new.issued.number,
                    relation = ?new.issued.relation,
                    "correction issued"
                );
                Ok(Outcome::Done((new, changed)))
            }
            Outcome::Done((_, None)) => Err(ApiError::internal("a correction without its original")),
            Outcome::Replayed(stored) => Ok(Outcome::Replayed(stored)),
        }
    }
}
