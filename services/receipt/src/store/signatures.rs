//! The signing job's side of receipts: the job each issued receipt gets, the receipt it signs, and the
//! outcome of each attempt (with its event, in the same transaction).

use chrono::{DateTime, Utc};
use motcua_chassis::{
    ApiError,
    feed::{self, NewEvent},
    jobs::NewJob,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::entities::receipt;
use crate::domain::receipt::SignatureState;

/// The kind of the job that has a receipt signed.
pub const SIGN: &str = "receipt.sign";

/// The signing job of receipt `receipt_id`, issued by the call `request_id`: one job per receipt, so
/// each is retried, dead-lettered and retried by an operator on its own, and its span links to the
/// call that issued it.
pub fn signing_job(receipt_id: &str, request_id: &str) -> NewJob {
    NewJob {
        kind: SIGN,
        subject: format!("receipts/{receipt_id}"),
        payload: Vec::new(),
        request_id: request_id.to_owned(),
    }
}

/// A receipt whose signature is still to be made.
#[derive(Debug, Clone)]
pub struct DueSignature {
    /// The receipt's id.
    pub receipt_id: String,
    /// The receipt's branch, for the event.
    pub branch_code: String,
    /// The issuing request's id, from which the signing request's id is derived.
    pub request_id: String,
    /// The collector's staff code, the signer.
    pub officer_id: String,
    /// The canonical XML to sign.
    pub xml: Vec<u8>,
    /// How many times signing was asked before.
    pub attempts: i32,
}

/// Receipt `receipt_id` if it is not signed yet (pending, or refused before and retried by an
/// operator); `None` when it is signed already or unknown.
pub async fn unsigned(db: &DatabaseConnection, receipt_id: &str) -> Result<Option<DueSignature>, ApiError> {
    let Some(row) = receipt::Entity::find()
        .filter(receipt::Column::ReceiptId.eq(receipt_id))
        .filter(receipt::Column::SignatureState.ne(SignatureState::Signed as i16))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let issued = super::receipts::decode(&row)?.issued;
    Ok(Some(DueSignature {
        receipt_id: row.receipt_id,
        branch_code: row.branch_code,
        request_id: row.request_id,
        officer_id: issued.content.collector.officer_id,
        xml: row.xml.into_bytes(),
        attempts: row.sign_attempts,
    }))
}

/// Records a signature made by signing, and its event; false when the receipt was signed already
/// (by an earlier attempt whose job outcome was lost).
pub async fn record_signed(
    db: &DatabaseConnection,
    receipt_id: &str,
    signature_name: &str,
    log_index: i64,
    sign_time: DateTime<Utc>,
    attempts: i32,
    event: NewEvent,
) -> Result<bool, ApiError> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    let updated = receipt::Entity::update_many()
        .col_expr(receipt::Column::SignatureState, (SignatureState::Signed as i16).into())
        .col_expr(receipt::Column::SignatureName, signature_name.into())
        .col_expr(receipt::Column::LogIndex, log_index.into())
        .col_expr(receipt::Column::SignTime, Some(sign_time).into())
        .col_expr(receipt::Column::SignAttempts, attempts.into())
        .col_expr(receipt::Column::SignLastError, String::new().into())
        .filter(receipt::Column::ReceiptId.eq(receipt_id))
        .filter(receipt::Column::SignatureState.ne(SignatureState::Signed as i16))
        .exec(&transaction)
        .await?
        .rows_affected;
    if updated == 0 {
        transaction.rollback().await?;
        return Ok(false);
    }
    feed::append(&transaction, event).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Records a failed attempt on the receipt, so that reading it says why it is not signed yet: still
/// pending, or refused for good when `refused`. The job keeps the schedule of the next attempt.
pub async fn record_failure(
    db: &DatabaseConnection,
    receipt_id: &str,
    attempts: i32,
    reason: &str,
    refused: bool,
) -> Result<(), ApiError> {
    let state = if refused { SignatureState::Refused } else { SignatureState::Pending };
    receipt::Entity::update_many()
        .col_expr(receipt::Column::SignatureState, (state as i16).into())
        .col_expr(receipt::Column::SignAttempts, attempts.into())
        .col_expr(receipt::Column::SignLastError, reason.into())
        .filter(receipt::Column::ReceiptId.eq(receipt_id))
        .filter(receipt::Column::SignatureState.ne(SignatureState::Signed as i16))
        .exec(db)
        .await?;
    Ok(())
}
