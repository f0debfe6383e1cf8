//! The signing job's side of receipts: the pending signatures that are due, leased to one replica at a
//! time, and the outcome of each attempt (with its event, in the same transaction).

use chrono::{DateTime, Utc};
use motcua_chassis::{
    ApiError,
    feed::{self, NewEvent},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use super::entities::receipt;
use crate::domain::receipt::SignatureState;

/// A receipt whose signature is due.
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

/// Up to `limit` pending signatures due at `now`, each leased until `lease_until` so that another
/// replica's job leaves it alone meanwhile.
pub async fn lease_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DueSignature>, ApiError> {
    let candidates = receipt::Entity::find()
        .filter(receipt::Column::SignatureState.eq(SignatureState::Pending as i16))
        .filter(receipt::Column::NextSignAt.lte(now))
        .order_by_asc(receipt::Column::NextSignAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut leased = Vec::with_capacity(candidates.len());
    for row in candidates {
        let taken = receipt::Entity::update_many()
            .col_expr(receipt::Column::NextSignAt, lease_until.into())
            .filter(receipt::Column::Id.eq(row.id))
            .filter(receipt::Column::SignatureState.eq(SignatureState::Pending as i16))
            .filter(receipt::Column::NextSignAt.eq(row.next_sign_at))
            .exec(db)
            .await?
            .rows_affected;
        if taken == 0 {
            continue;
        }
        let issued = super::receipts::decode(&row)?.issued;
        leased.push(DueSignature {
            receipt_id: row.receipt_id,
            branch_code: row.branch_code,
            request_id: row.request_id,
            officer_id: issued.content.collector.officer_id,
            xml: row.xml.into_bytes(),
            attempts: row.sign_attempts,
        });
    }
    Ok(leased)
}

/// Records a signature made by signing, and its event; false when the receipt was signed already
/// (by another replica's job).
pub async fn record_signed(
    db: &DatabaseConnection,
    receipt_id: &str,
    signature_name: &str,
    log_index: i64,
    sign_time: DateTime<Utc>,
    attempts: i32,
    event: NewEvent,
) -> Result<bool, ApiError> {
    let transaction = db.begin().await?;
    let updated = receipt::Entity::update_many()
        .col_expr(receipt::Column::SignatureState, (SignatureState::Signed as i16).into())
        .col_expr(receipt::Column::SignatureName, signature_name.into())
        .col_expr(receipt::Column::LogIndex, log_index.into())
        .col_expr(receipt::Column::SignTime, Some(sign_time).into())
        .col_expr(receipt::Column::SignAttempts, attempts.into())
        .col_expr(receipt::Column::SignLastError, String::new().into())
        .filter(receipt::Column::ReceiptId.eq(receipt_id))
        .filter(receipt::Column::SignatureState.eq(SignatureState::Pending as i16))
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

/// Records a failed attempt: retried at `next_attempt`, or refused for good when `refused`.
pub async fn record_failure(
    db: &DatabaseConnection,
    receipt_id: &str,
    attempts: i32,
    reason: &str,
    next_attempt: DateTime<Utc>,
    refused: bool,
) -> Result<(), ApiError> {
    let state = if refused { SignatureState::Refused } else { SignatureState::Pending };
    receipt::Entity::update_many()
        .col_expr(receipt::Column::SignatureState, (state as i16).into())
        .col_expr(receipt::Column::SignAttempts, attempts.into())
        .col_expr(receipt::Column::SignLastError, reason.into())
        .col_expr(receipt::Column::NextSignAt, next_attempt.into())
        .filter(receipt::Column::ReceiptId.eq(receipt_id))
        .filter(receipt::Column::SignatureState.eq(SignatureState::Pending as i16))
        .exec(db)
        .await?;
    Ok(())
}
