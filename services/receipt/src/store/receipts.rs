//! Receipts in the database: issuing one (number, row, corrected original, events and the request log
//! in one transaction), cancelling under optimistic locking, reading and keyset-paged listings.

use chrono::NaiveDate;
use motcua_chassis::{
    ApiError,
    idempotency::{self, Claim, RequestKey},
    jobs,
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use super::{
    Effects, Outcome, day_text,
    entities::receipt,
    series::{finish, take_number},
    signatures::signing_job,
};
use crate::domain::{
    receipt::{Corrections, Issued, Receipt, ReceiptState, Relation, Signature, SignatureState},
    series::{ReceiptKind, Series},
    xml::canonical_xml,
};

/// The resource type of a receipt, in NOT_FOUND errors.
pub const RECEIPT_TYPE: &str = "motcua.receipt.v1.Receipt";

/// How often a correction is retried when another replica changed the original between read and
/// write.
const CHANGE_ATTEMPTS: u32 = 5;

/// A stored receipt with its row id, the keyset position in listings.
#[derive(Debug, Clone)]
pub struct ReceiptRecord {
    /// The row id.
    pub id: i64,
    /// The receipt.
    pub receipt: Receipt,
    /// The revision of its corrections, for optimistic locking.
    pub revision: i32,
}

/// Filters of a listing of receipts, validated.
#[derive(Debug, Clone, Default)]
pub struct ReceiptFilter {
    /// Only this series.
    pub series_id: Option<String>,
    /// Dated on or after this day.
    pub issue_date_from: Option<NaiveDate>,
    /// Dated on or before this day.
    pub issue_date_to: Option<NaiveDate>,
    /// Only this dossier.
    pub dossier_code: Option<String>,
    /// Only this kind.
    pub kind: Option<ReceiptKind>,
    /// Only this state.
    pub state: Option<ReceiptState>,
    /// Only these branches (the caller's); empty means every branch.
    pub branch_codes: Vec<String>,
}

/// What an issue numbers: the series, the date, and for a correction the receipt it corrects.
pub struct Issue<'a> {
    /// The series to take the number from.
    pub series_id: &'a str,
    /// The receipt's date.
    pub issue_date: NaiveDate,
    /// Today, in Asia/Ho_Chi_Minh.
    pub today: NaiveDate,
    /// For a replacement or an adjustment, the id of the receipt it corrects.
    pub original_receipt_id: Option<&'a str>,
}

/// Issues a receipt: takes the next number of the series, lets `build` write the receipt with it
/// (and check it against the series and the original), stores it with its XML digest and a pending
/// signature, marks the original replaced or adjusted, and writes the events and the response, all
/// in one transaction. A rollback (an error here or a crash) returns the number.
pub async fn issue(
    db: &DatabaseConnection,
    key: &RequestKey,
    issue: Issue<'_>,
    build: impl Fn(&Series, i64, Option<&Receipt>) -> Result<Issued, ApiError>,
    effects: impl Fn(&Receipt, Option<&Receipt>) -> Effects,
) -> Result<Outcome<(Receipt, Option<Receipt>)>, ApiError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let transaction = motcua_chassis::db::begin_write(db).await?;
        if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
            return Ok(Outcome::Replayed(response));
        }
        let original = match issue.original_receipt_id {
            None => None,
            Some(receipt_id) => Some(find_required(&transaction, receipt_id).await?),
        };
        let (series, number) = take_number(&transaction, issue.series_id, issue.issue_date, issue.today).await?;
        let issued = build(&series, number, original.as_ref().map(|record| &record.receipt))?;
        let receipt = insert(&transaction, issued, key.request_id()).await?;
        let original = match original {
            None => None,
            Some(record) => {
                let mut corrected = record.receipt.clone();
                match receipt.issued.relation {
                    Relation::Replacement => {
                        corrected.state = ReceiptState::Replaced;
                        corrected.corrections.replaced_by = Some(receipt.issued.receipt_id.clone());
                    }
                    Relation::Adjustment => {
                        corrected.state = ReceiptState::Adjusted;
                        corrected.corrections.adjustments.push(receipt.issued.receipt_id.clone());
                    }
                    Relation::Original => {}
                }
                if !update_corrections(&transaction, record.id, record.revision, &corrected).await? {
                    transaction.rollback().await?;
                    continue;
                }
                Some(corrected)
            }
        };
        finish(transaction, key, effects(&receipt, original.as_ref())).await?;
        return Ok(Outcome::Done((receipt, original)));
    }
    Err(concurrent_change())
}

/// Changes the receipt `receipt_id` (a cancellation): `mutate` changes it or refuses; the row is
/// written only if nobody changed it since it was read, else the change is tried again.
pub async fn change(
    db: &DatabaseConnection,
    key: &RequestKey,
    receipt_id: &str,
    mutate: impl Fn(&mut Receipt) -> Result<(), ApiError>,
    effects: impl Fn(&Receipt) -> Effects,
) -> Result<Outcome<Receipt>, ApiError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let transaction = motcua_chassis::db::begin_write(db).await?;
        if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
            return Ok(Outcome::Replayed(response));
        }
        let record = find_required(&transaction, receipt_id).await?;
        let mut changed = record.receipt;
        mutate(&mut changed)?;
        if !update_corrections(&transaction, record.id, record.revision, &changed).await? {
            transaction.rollback().await?;
            continue;
        }
        finish(transaction, key, effects(&changed)).await?;
        return Ok(Outcome::Done(changed));
    }
    Err(concurrent_change())
}

/// The receipt `receipt_id`, if it exists.
pub async fn find(db: &impl ConnectionTrait, receipt_id: &str) -> Result<Option<ReceiptRecord>, ApiError> {
    let row = receipt::Entity::find().filter(receipt::Column::ReceiptId.eq(receipt_id)).one(db).await?;
    row.map(|row| Ok(ReceiptRecord { id: row.id, receipt: decode(&row)?, revision: row.revision })).transpose()
}

/// The receipt whose normalised lookup code is `lookup_code`, if any.
pub async fn find_by_lookup_code(db: &DatabaseConnection, lookup_code: &str) -> Result<Option<Receipt>, ApiError> {
    let row = receipt::Entity::find().filter(receipt::Column::LookupCode.eq(lookup_code)).one(db).await?;
    row.map(|row| decode(&row)).transpose()
}

/// The receipt `receipt_id` and its canonical XML, as signed.
pub async fn find_with_xml(db: &DatabaseConnection, receipt_id: &str) -> Result<Option<(Receipt, Vec<u8>)>, ApiError> {
    let row = receipt::Entity::find().filter(receipt::Column::ReceiptId.eq(receipt_id)).one(db).await?;
    row.map(|row| Ok((decode(&row)?, row.xml.into_bytes()))).transpose()
}

/// Receipts matching `filter` with a row id below `before_id`, newest first, at most `limit`.
pub async fn list(
    db: &DatabaseConnection,
    filter: &ReceiptFilter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<ReceiptRecord>, ApiError> {
    let mut condition = Condition::all();
    if let Some(before_id) = before_id {
        condition = condition.add(receipt::Column::Id.lt(before_id));
    }
    if let Some(series_id) = &filter.series_id {
        condition = condition.add(receipt::Column::SeriesId.eq(series_id.as_str()));
    }
    if let Some(from) = filter.issue_date_from {
        condition = condition.add(receipt::Column::IssueDate.gte(day_text(from)));
    }
    if let Some(to) = filter.issue_date_to {
        condition = condition.add(receipt::Column::IssueDate.lte(day_text(to)));
    }
    if let Some(dossier_code) = &filter.dossier_code {
        condition = condition.add(receipt::Column::DossierCode.eq(dossier_code.as_str()));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(receipt::Column::Kind.eq(kind as i16));
    }
    if let Some(state) = filter.state {
        condition = condition.add(receipt::Column::State.eq(state as i16));
    }
    if !filter.branch_codes.is_empty() {
        condition = condition.add(receipt::Column::BranchCode.is_in(filter.branch_codes.iter().map(String::as_str)));
    }
    receipt::Entity::find()
        .filter(condition)
        .order_by_desc(receipt::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .iter()
        .map(|row| Ok(ReceiptRecord { id: row.id, receipt: decode(row)?, revision: row.revision }))
        .collect()
}

async fn find_required(transaction: &DatabaseTransaction, receipt_id: &str) -> Result<ReceiptRecord, ApiError> {
    find(transaction, receipt_id)
        .await?
        .ok_or_else(|| ApiError::not_found(RECEIPT_TYPE, format!("receipts/{receipt_id}")))
}

/// Stores `issued` with its canonical XML, its digest, a pending signature and the job that has it
/// signed (carrying the current span's trace context, the issuing call's).
async fn insert(transaction: &DatabaseTransaction, issued: Issued, request_id: &str) -> Result<Receipt, ApiError> {
    let (receipt, row) = new_row(issued, request_id)?;
    receipt::Entity::insert(row).exec_without_returning(transaction).await?;
    let job = signing_job(&receipt.issued.receipt_id, request_id);
    jobs::enqueue(transaction, receipt.issued.issue_time, job).await?;
    Ok(receipt)
}

/// Stores every one of `issued` (with its request id and the `traceparent` of the call that issued
/// it), each as [`insert`] stores one: one statement for the receipts, one for their jobs.
pub(super) async fn insert_many(
    transaction: &DatabaseTransaction,
    issued: Vec<(Issued, &str, &str)>,
) -> Result<Vec<Receipt>, ApiError> {
    let mut receipts = Vec::with_capacity(issued.len());
    let mut rows = Vec::with_capacity(issued.len());
    let mut signing_jobs = Vec::with_capacity(issued.len());
    for (issued, request_id, traceparent) in issued {
        let (receipt, row) = new_row(issued, request_id)?;
        signing_jobs.push((signing_job(&receipt.issued.receipt_id, request_id), traceparent.to_owned()));
        receipts.push(receipt);
        rows.push(row);
    }
    let Some(first) = receipts.first() else { return Ok(receipts) };
    let now = first.issued.issue_time;
    receipt::Entity::insert_many(rows).exec_without_returning(transaction).await?;
    jobs::enqueue_many(transaction, now, signing_jobs).await?;
    Ok(receipts)
}

/// A new receipt, issued and unsigned, and its row.
fn new_row(issued: Issued, request_id: &str) -> Result<(Receipt, receipt::ActiveModel), ApiError> {
    let xml = canonical_xml(&issued);
    let xml_sha256 = Sha256::digest(&xml).to_vec();
    let xml = String::from_utf8(xml).map_err(ApiError::internal)?;
    let receipt = Receipt {
        issued,
        state: ReceiptState::Issued,
        corrections: Corrections::default(),
        xml_sha256,
        signature: Signature {
            state: SignatureState::Pending,
            name: String::new(),
            log_index: 0,
            sign_time: None,
            attempts: 0,
            last_error_reason: String::new(),
        },
    };
    let issued = &receipt.issued;
    let row = receipt::ActiveModel {
        id: NotSet,
        receipt_id: Set(issued.receipt_id.clone()),
        series_id: Set(issued.series_id.clone()),
        number: Set(issued.number),
        kind: Set(issued.kind as i16),
        branch_code: Set(issued.branch_code.clone()),
        dossier_code: Set(issued.content.dossier_code.clone()),
        issue_date: Set(day_text(issued.content.issue_date)),
        state: Set(receipt.state as i16),
        relation: Set(issued.relation as i16),
        total: Set(issued.total),
        lookup_code: Set(issued.lookup_code.clone()),
        revision: Set(1),
        body: Set(serde_json::to_string(issued).map_err(ApiError::internal)?),
        corrections: Set(serde_json::to_string(&receipt.corrections).map_err(ApiError::internal)?),
        xml: Set(xml),
        xml_sha256: Set(receipt.xml_sha256.clone()),
        request_id: Set(request_id.to_owned()),
        signature_state: Set(SignatureState::Pending as i16),
        signature_name: Set(String::new()),
        log_index: Set(0),
        sign_time: Set(None),
        sign_attempts: Set(0),
        sign_last_error: Set(String::new()),
        next_sign_at: Set(issued.issue_time),
    };
    Ok((receipt, row))
}

/// Writes the state and corrections of `changed` if the row's revision is still `revision`.
async fn update_corrections(
    transaction: &DatabaseTransaction,
    id: i64,
    revision: i32,
    changed: &Receipt,
) -> Result<bool, ApiError> {
    let updated = receipt::Entity::update_many()
        .col_expr(receipt::Column::State, (changed.state as i16).into())
        .col_expr(
            receipt::Column::Corrections,
            serde_json::to_string(&changed.corrections).map_err(ApiError::internal)?.into(),
        )
        .col_expr(receipt::Column::Revision, (revision + 1).into())
        .filter(receipt::Column::Id.eq(id))
        .filter(receipt::Column::Revision.eq(revision))
        .exec(transaction)
        .await?
        .rows_affected;
    Ok(updated == 1)
}

fn concurrent_change() -> ApiError {
    ApiError::Unavailable {
        reason: "CONCURRENT_CHANGE",
        description: "the receipt kept changing under this change; retry with the same request_id".to_owned(),
    }
}

/// The domain receipt of a row.
pub(super) fn decode(row: &receipt::Model) -> Result<Receipt, ApiError> {
    let corrupt = |what: &str| ApiError::internal(format!("receipt row {}: bad {what}", row.id));
    let issued: Issued = serde_json::from_str(&row.body).map_err(|_| corrupt("body"))?;
    let corrections: Corrections = serde_json::from_str(&row.corrections).map_err(|_| corrupt("corrections"))?;
    Ok(Receipt {
        issued,
        state: ReceiptState::from_code(i32::from(row.state)).ok_or_else(|| corrupt("state"))?,
        corrections,
        xml_sha256: row.xml_sha256.clone(),
        signature: Signature {
            state: SignatureState::from_code(i32::from(row.signature_state))
                .ok_or_else(|| corrupt("signature state"))?,
            name: row.signature_name.clone(),
            log_index: row.log_index,
            sign_time: row.sign_time,
            attempts: row.sign_attempts,
            last_error_reason: row.sign_last_error.clone(),
        },
    })
}
