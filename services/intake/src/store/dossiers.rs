//! Dossiers in the database: creating one (code number, row, history, event, follow-up jobs and the
//! request log in one transaction), making a move under optimistic locking, reading, and keyset-paged
//! listings.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_chassis::{
    ApiError,
    feed::{self, NewEvent},
    idempotency::{self, Claim, RequestKey},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};

use super::{
    documents::NewDocument,
    entities::{dossier, dossier_history},
};
use crate::domain::{
    calendar::local_date,
    dossier::{Dossier, HistoryEntry},
};

/// How often a move is retried when another replica changed the dossier between read and write.
const MOVE_ATTEMPTS: u32 = 5;

/// A stored dossier with its row id.
#[derive(Debug, Clone)]
pub struct DossierRecord {
    /// The row id: the keyset position in listings.
    pub id: i64,
    /// The dossier.
    pub dossier: Dossier,
}

/// What a mutation returns: its fresh result, or the stored response of an earlier call with the
/// same request id.
pub enum Outcome<T> {
    /// Done now.
    Done(T),
    /// Done before: the original response, encoded.
    Replayed(Vec<u8>),
}

/// What a mutation writes besides the dossier: the encoded response for the request log, and the
/// event for the feed.
pub struct Effects {
    /// The RPC's response, encoded, returned again to a retry.
    pub response: Vec<u8>,
    /// The event to append.
    pub event: NewEvent,
}

/// Filters of a listing, validated.
#[derive(Debug, Clone, Default)]
pub struct DossierFilter {
    /// Only this branch.
    pub branch_code: Option<String>,
    /// Only this procedure.
    pub procedure_code: Option<String>,
    /// Only this national status.
    pub status: Option<i16>,
    /// Received on or after this local day.
    pub received_from: Option<NaiveDate>,
    /// Received on or before this local day.
    pub received_to: Option<NaiveDate>,
    /// Only this applicant, by keyed hash of the identifier.
    pub applicant_key_hash: Option<String>,
    /// Only dossiers open and past their appointment at this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// For a restricted caller: only the dossiers this identity filed, or of these procedures.
    pub visible_to: Option<(String, Vec<String>)>,
}

/// Where and for whom a dossier is filed: what its creation needs besides the dossier itself.
pub struct Filing<'a> {
    /// The receiving agency, whose daily counter numbers the dossier.
    pub agency_code: &'a str,
    /// The receiving day (Asia/Ho_Chi_Minh).
    pub day: NaiveDate,
    /// The applicant's keyed hash, for the applicant index.
    pub applicant_key_hash: &'a str,
    /// Documents of the applicant's data store the dossier cites.
    pub reused_documents: &'a [String],
}

/// Creates a dossier: takes the agency's next number of the day, lets `build` make the dossier and
/// its creation entry with that number, and stores it with its history, its event, the follow-up jobs
/// it leaves (the slip and fee receipt of a received dossier) and the response, all in one
/// transaction. Numbers are gap-free: the counter row is held until commit, and a rollback returns
/// the number.
pub async fn create(
    db: &DatabaseConnection,
    key: &RequestKey,
    filing: Filing<'_>,
    build: impl FnOnce(u32) -> (Dossier, HistoryEntry),
    effects: impl FnOnce(&Dossier) -> Effects,
) -> Result<Outcome<Dossier>, ApiError> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
        return Ok(Outcome::Replayed(response));
    }
    let number = next_number(&transaction, filing.agency_code, filing.day).await?;
    let (dossier, entry) = build(number);
    let id = insert_row(&transaction, &dossier, filing.applicant_key_hash).await?;
    insert_history(&transaction, id, &entry).await?;
    super::documents::count_reuse(&transaction, filing.reused_documents).await?;
    super::follow_ups::enqueue_after(&transaction, &dossier, &entry).await?;
    let Effects { response, event } = effects(&dossier);
    feed::append(&transaction, event).await?;
    idempotency::complete(&transaction, key, &response).await?;
    transaction.commit().await?;
    Ok(Outcome::Done(dossier))
}

/// Changes the dossier `code`: `mutate` changes it (or refuses) and returns the history entry of the
/// move, if the change is one (a rating or a complaint is not), recorded with the follow-up jobs it
/// leaves (an accepted dossier's slip, a returned one's fee receipt);
/// the row is written only if nobody changed it since it was read, else the move is tried again on
/// the fresh dossier.
pub async fn change(
    db: &DatabaseConnection,
    key: &RequestKey,
    code: &str,
    mutate: impl Fn(&mut Dossier) -> Result<Option<HistoryEntry>, ApiError>,
    effects: impl Fn(&Dossier, Option<&HistoryEntry>) -> Effects,
) -> Result<Outcome<Dossier>, ApiError> {
    change_storing(db, key, code, None, mutate, effects).await
}

/// [`change`], storing `document` (the result the move records) in the same transaction: both or
/// neither.
pub async fn change_storing(
    db: &DatabaseConnection,
    key: &RequestKey,
    code: &str,
    mut document: Option<NewDocument>,
    mutate: impl Fn(&mut Dossier) -> Result<Option<HistoryEntry>, ApiError>,
    effects: impl Fn(&Dossier, Option<&HistoryEntry>) -> Effects,
) -> Result<Outcome<Dossier>, ApiError> {
    for _ in 0..MOVE_ATTEMPTS {
        let transaction = motcua_chassis::db::begin_write(db).await?;
        if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
            return Ok(Outcome::Replayed(response));
        }
        let Some(row) = dossier::Entity::find().filter(dossier::Column::DossierCode.eq(code)).one(&transaction).await?
        else {
            return Err(ApiError::not_found("motcua.intake.v1.Dossier", format!("dossiers/{code}")));
        };
        let mut changed = decode(&row)?;
        let entry = mutate(&mut changed)?;
        if !update_row(&transaction, &row, &changed).await? {
            transaction.rollback().await?;
            continue;
        }
        if let Some(entry) = &entry {
            insert_history(&transaction, row.id, entry).await?;
            super::follow_ups::enqueue_after(&transaction, &changed, entry).await?;
        }
        if let Some(document) = document.take() {
            super::documents::insert(&transaction, document).await?;
        }
        let Effects { response, event } = effects(&changed, entry.as_ref());
        feed::append(&transaction, event).await?;
        idempotency::complete(&transaction, key, &response).await?;
        transaction.commit().await?;
        return Ok(Outcome::Done(changed));
    }
    Err(ApiError::Unavailable {
        reason: "CONCURRENT_CHANGE",
        description: "the dossier kept changing under this move; retry with the same request_id".to_owned(),
    })
}

/// The dossier `code`, if it exists.
pub async fn find(db: &impl ConnectionTrait, code: &str) -> Result<Option<DossierRecord>, ApiError> {
    let row = dossier::Entity::find().filter(dossier::Column::DossierCode.eq(code)).one(db).await?;
    row.map(|row| Ok(DossierRecord { id: row.id, dossier: decode(&row)? })).transpose()
}

/// The history of the dossier with row id `dossier_id`, oldest first.
pub async fn history(db: &impl ConnectionTrait, dossier_id: i64) -> Result<Vec<HistoryEntry>, ApiError> {
    dossier_history::Entity::find()
        .filter(dossier_history::Column::DossierId.eq(dossier_id))
        .order_by_asc(dossier_history::Column::Sequence)
        .all(db)
        .await?
        .iter()
        .map(|row| {
            serde_json::from_str(&row.body)
                .map_err(|error| ApiError::internal(format!("history row {}: {error}", row.id)))
        })
        .collect()
}

/// Dossiers matching `filter` with a row id below `before_id`, newest first, at most `limit`.
pub async fn list(
    db: &DatabaseConnection,
    filter: &DossierFilter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<DossierRecord>, ApiError> {
    let mut condition = Condition::all();
    if let Some(before_id) = before_id {
        condition = condition.add(dossier::Column::Id.lt(before_id));
    }
    if let Some(branch_code) = &filter.branch_code {
        condition = condition.add(dossier::Column::BranchCode.eq(branch_code.as_str()));
    }
    if let Some(procedure_code) = &filter.procedure_code {
        condition = condition.add(dossier::Column::ProcedureCode.eq(procedure_code.as_str()));
    }
    if let Some(status) = filter.status {
        condition = condition.add(dossier::Column::Status.eq(status));
    }
    if let Some(from) = filter.received_from {
        condition = condition.add(dossier::Column::ReceivedDay.gte(day_text(from)));
    }
    if let Some(to) = filter.received_to {
        condition = condition.add(dossier::Column::ReceivedDay.lte(day_text(to)));
    }
    if let Some(hash) = &filter.applicant_key_hash {
        condition = condition.add(dossier::Column::ApplicantKeyHash.eq(hash.as_str()));
    }
    if let Some((submitter, procedures)) = &filter.visible_to {
        condition = condition.add(
            Condition::any()
                .add(dossier::Column::SubmitterIdentity.eq(submitter.as_str()))
                .add(dossier::Column::ProcedureCode.is_in(procedures.iter().map(String::as_str))),
        );
    }
    if let Some(now) = filter.overdue_at {
        condition = condition.add(dossier::Column::IsOpen.eq(true)).add(dossier::Column::AppointmentTime.lt(now));
    }
    dossier::Entity::find()
        .filter(condition)
        .order_by_desc(dossier::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .iter()
        .map(|row| Ok(DossierRecord { id: row.id, dossier: decode(row)? }))
        .collect()
}

async fn next_number(transaction: &DatabaseTransaction, agency_code: &str, day: NaiveDate) -> Result<u32, DbErr> {
    let backend = transaction.get_database_backend();
    let sql = motcua_chassis::db::placeholders(
        backend,
        "INSERT INTO day_counters (agency_code, day, last_number) VALUES ($1, $2, 1) \
         ON CONFLICT (agency_code, day) DO UPDATE SET last_number = day_counters.last_number + 1 \
         RETURNING last_number",
    );
    let row = transaction
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(agency_code), Value::from(day_text(day))],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the day counter returned no row".to_owned()))?;
    let number: i64 = row.try_get("", "last_number")?;
    u32::try_from(number).map_err(|_| DbErr::Custom(format!("day counter out of range: {number}")))
}

async fn insert_row(
    transaction: &DatabaseTransaction,
    dossier: &Dossier,
    applicant_key_hash: &str,
) -> Result<i64, ApiError> {
    let row = dossier::ActiveModel {
        id: NotSet,
        dossier_code: Set(dossier.code.printed()),
        branch_code: Set(dossier.branch_code.clone()),
        agency_code: Set(dossier.code.agency_code.clone()),
        procedure_code: Set(dossier.procedure_code.clone()),
        status: Set(dossier.status as i16),
        channel: Set(dossier.channel as i16),
        level: Set(dossier.level as i16),
        applicant_key_hash: Set(applicant_key_hash.to_owned()),
        received_day: Set(dossier.receive_time.map(|time| day_text(local_date(time)))),
        appointment_time: Set(dossier.appointment),
        is_open: Set(dossier.status.is_open()),
        revision: Set(1),
        body: Set(encode(dossier)?),
        create_time: Set(dossier.create_time),
        update_time: Set(dossier.update_time),
        submitter_identity: Set(dossier.submitter_identity.clone()),
    };
    Ok(dossier::Entity::insert(row).exec(transaction).await?.last_insert_id)
}

/// Writes `changed` over `row` if its revision is still the one read; false when another writer won.
async fn update_row(
    transaction: &DatabaseTransaction,
    row: &dossier::Model,
    changed: &Dossier,
) -> Result<bool, ApiError> {
    let updated = dossier::Entity::update_many()
        .col_expr(dossier::Column::Status, (changed.status as i16).into())
        .col_expr(dossier::Column::ReceivedDay, changed.receive_time.map(|time| day_text(local_date(time))).into())
        .col_expr(dossier::Column::AppointmentTime, changed.appointment.into())
        .col_expr(dossier::Column::IsOpen, changed.status.is_open().into())
        .col_expr(dossier::Column::Revision, (row.revision + 1).into())
        .col_expr(dossier::Column::Body, encode(changed)?.into())
        .col_expr(dossier::Column::UpdateTime, changed.update_time.into())
        .filter(dossier::Column::Id.eq(row.id))
        .filter(dossier::Column::Revision.eq(row.revision))
        .exec(transaction)
        .await?
        .rows_affected;
    Ok(updated == 1)
}

async fn insert_history(
    transaction: &DatabaseTransaction,
    dossier_id: i64,
    entry: &HistoryEntry,
) -> Result<(), ApiError> {
    let body = serde_json::to_string(entry).map_err(ApiError::internal)?;
    dossier_history::Entity::insert(dossier_history::ActiveModel {
        id: NotSet,
        dossier_id: Set(dossier_id),
        sequence: Set(entry.sequence as i32),
        body: Set(body),
        time: Set(entry.time),
    })
    .exec(transaction)
    .await?;
    Ok(())
}

fn encode(dossier: &Dossier) -> Result<String, ApiError> {
    serde_json::to_string(dossier).map_err(ApiError::internal)
}

fn decode(row: &dossier::Model) -> Result<Dossier, ApiError> {
    serde_json::from_str(&row.body).map_err(|error| ApiError::internal(format!("dossier row {}: {error}", row.id)))
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}
