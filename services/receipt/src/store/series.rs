//! Series in the database: creating, reading, listing, closing, and taking the next number inside the
//! issuing transaction.

use chrono::{DateTime, NaiveDate, Utc};
use motcua_chassis::{
    ApiError,
    db::placeholders,
    feed,
    idempotency::{self, Claim, RequestKey},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, SqlErr, Statement, Value,
};

use super::{Effects, Outcome, day_text, entities::series};
use crate::domain::series::{MAX_NUMBER, NumberRefused, ReceiptKind, Series, SeriesState};

/// The resource type of a series, in NOT_FOUND errors.
pub const SERIES_TYPE: &str = "motcua.receipt.v1.Series";

/// Filters of a listing of series, validated.
#[derive(Debug, Clone, Default)]
pub struct SeriesFilter {
    /// Only this branch.
    pub branch_code: Option<String>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only this kind.
    pub kind: Option<ReceiptKind>,
    /// Only this state.
    pub state: Option<SeriesState>,
}

/// Creates `new` with its event and response in one transaction. A duplicate id or symbols is
/// ALREADY_EXISTS (SERIES_EXISTS).
pub async fn create(
    db: &DatabaseConnection,
    key: &RequestKey,
    new: &Series,
    effects: impl FnOnce(&Series) -> Effects,
) -> Result<Outcome<Series>, ApiError> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
        return Ok(Outcome::Replayed(response));
    }
    let row = series::ActiveModel {
        id: NotSet,
        series_id: Set(new.series_id.clone()),
        branch_code: Set(new.branch_code.clone()),
        year: Set(new.year),
        kind: Set(new.kind as i16),
        template_symbol: Set(new.template_symbol.clone()),
        series_symbol: Set(new.series_symbol.clone()),
        state: Set(new.state as i16),
        last_number: Set(0),
        last_issue_date: Set(String::new()),
        create_time: Set(new.create_time),
        close_time: Set(None),
        close_reason: Set(String::new()),
    };
    if let Err(error) = series::Entity::insert(row).exec(&transaction).await {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::AlreadyExists {
                reason: "SERIES_EXISTS",
                description: "a series with this id, or with this branch, year and symbols, exists".to_owned(),
            },
            _ => error.into(),
        });
    }
    finish(transaction, key, effects(new)).await?;
    Ok(Outcome::Done(new.clone()))
}

/// Closes the series `series_id` with `reason`; closing a closed series is FAILED_PRECONDITION.
pub async fn close(
    db: &DatabaseConnection,
    key: &RequestKey,
    series_id: &str,
    reason: &str,
    now: DateTime<Utc>,
    effects: impl FnOnce(&Series) -> Effects,
) -> Result<Outcome<Series>, ApiError> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
        return Ok(Outcome::Replayed(response));
    }
    // The state condition makes the close win or lose against a concurrent issue atomically: an issue
    // that took a number first commits it; one after sees the series closed.
    let closed = series::Entity::update_many()
        .col_expr(series::Column::State, (SeriesState::Closed as i16).into())
        .col_expr(series::Column::CloseTime, Some(now).into())
        .col_expr(series::Column::CloseReason, reason.into())
        .filter(series::Column::SeriesId.eq(series_id))
        .filter(series::Column::State.eq(SeriesState::Open as i16))
        .exec(&transaction)
        .await?
        .rows_affected;
    let Some(found) = find(&transaction, series_id).await? else {
        return Err(ApiError::not_found(SERIES_TYPE, format!("series/{series_id}")));
    };
    if closed == 0 {
        return Err(ApiError::FailedPrecondition {
            reason: "SERIES_CLOSED",
            violation_type: "STATE",
            subject: format!("series/{series_id}"),
            description: "the series is closed already".to_owned(),
        });
    }
    finish(transaction, key, effects(&found)).await?;
    Ok(Outcome::Done(found))
}

/// Appends the events, stores the response and commits.
pub(super) async fn finish(
    transaction: DatabaseTransaction,
    key: &RequestKey,
    effects: Effects,
) -> Result<(), ApiError> {
    for event in effects.events {
        feed::append(&transaction, event).await?;
    }
    idempotency::complete(&transaction, key, &effects.response).await?;
    transaction.commit().await?;
    Ok(())
}

/// The series `series_id`, if it exists.
pub async fn find(db: &impl ConnectionTrait, series_id: &str) -> Result<Option<Series>, ApiError> {
    series::Entity::find()
        .filter(series::Column::SeriesId.eq(series_id))
        .one(db)
        .await?
        .map(|row| decode(&row))
        .transpose()
}

/// The keyset position of a series in listings: branch, year and symbols, which are unique together.
pub type SeriesPosition = (String, i32, String, String);

/// The position of `series` in listings.
pub fn position(series: &Series) -> SeriesPosition {
    (series.branch_code.clone(), series.year, series.template_symbol.clone(), series.series_symbol.clone())
}

/// Series matching `filter` after the keyset position `after`, at most `limit`, ordered by branch,
/// year and symbols.
pub async fn list(
    db: &DatabaseConnection,
    filter: &SeriesFilter,
    after: Option<&SeriesPosition>,
    limit: u64,
) -> Result<Vec<Series>, ApiError> {
    use series::Column::{BranchCode, SeriesSymbol, TemplateSymbol, Year};
    let mut condition = Condition::all();
    if let Some(branch_code) = &filter.branch_code {
        condition = condition.add(BranchCode.eq(branch_code.as_str()));
    }
    if let Some(year) = filter.year {
        condition = condition.add(Year.eq(year));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(series::Column::Kind.eq(kind as i16));
    }
    if let Some(state) = filter.state {
        condition = condition.add(series::Column::State.eq(state as i16));
    }
    if let Some((branch_code, year, template_symbol, series_symbol)) = after {
        // (branch, year, template, series) > the position, spelt out for both databases.
        let after_symbols = Condition::any().add(TemplateSymbol.gt(template_symbol.as_str())).add(
            Condition::all()
                .add(TemplateSymbol.eq(template_symbol.as_str()))
                .add(SeriesSymbol.gt(series_symbol.as_str())),
        );
        let after_year =
            Condition::any().add(Year.gt(*year)).add(Condition::all().add(Year.eq(*year)).add(after_symbols));
        condition = condition.add(
            Condition::any()
                .add(BranchCode.gt(branch_code.as_str()))
                .add(Condition::all().add(BranchCode.eq(branch_code.as_str())).add(after_year)),
        );
    }
    series::Entity::find()
        .filter(condition)
        .order_by_asc(BranchCode)
        .order_by_asc(Year)
        .order_by_asc(TemplateSymbol)
        .order_by_asc(SeriesSymbol)
        .limit(limit)
        .all(db)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Takes the next number of `series_id` for a receipt dated `issue_date` (today is `today`), inside
/// the issuing transaction. The counter row stays locked until the transaction ends (a row lock on
/// PostgreSQL, the write lock on SQLite), so numbers are unique across replicas, and a rollback
/// returns the number: no gap, no reuse.
pub async fn take_number(
    transaction: &DatabaseTransaction,
    series_id: &str,
    issue_date: NaiveDate,
    today: NaiveDate,
) -> Result<(Series, i64), ApiError> {
    match take_numbers(transaction, series_id, issue_date, today, 1).await? {
        Some(taken) => Ok(taken),
        None => Err(refusal(transaction, series_id, issue_date, today).await?),
    }
}

/// Takes the next `count` numbers of `series_id` at once, as [`take_number`] takes one, for receipts
/// dated `issue_date`: the series as updated and the first of the numbers, or `None` when the series
/// cannot give them all (closed, too few numbers left, the date out of order or of another year).
pub async fn take_numbers(
    transaction: &DatabaseTransaction,
    series_id: &str,
    issue_date: NaiveDate,
    today: NaiveDate,
    count: i64,
) -> Result<Option<(Series, i64)>, ApiError> {
    if issue_date > today || !(1..=MAX_NUMBER).contains(&count) {
        return Ok(None);
    }
    let backend = transaction.get_database_backend();
    let day = day_text(issue_date);
    let year: i32 = chrono::Datelike::year(&issue_date);
    let row = transaction
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE series SET last_number = last_number + $1, last_issue_date = $2 \
                 WHERE series_id = $3 AND state = $4 AND last_number <= $5 AND last_issue_date <= $6 AND year = $7 \
                 RETURNING id, series_id, branch_code, year, kind, template_symbol, series_symbol, state, \
                 last_number, last_issue_date, create_time, close_time, close_reason",
            ),
            [
                Value::from(count),
                Value::from(day.clone()),
                Value::from(series_id),
                Value::from(SeriesState::Open as i16),
                Value::from(MAX_NUMBER - count),
                Value::from(day),
                Value::from(year),
            ],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let taken = decode(&model_of(&row)?)?;
    let first = taken.last_number - count + 1;
    Ok(Some((taken, first)))
}

/// Why `series_id` gives no number to a receipt dated `issue_date`, from the series as it is now.
pub async fn refusal(
    transaction: &DatabaseTransaction,
    series_id: &str,
    issue_date: NaiveDate,
    today: NaiveDate,
) -> Result<ApiError, ApiError> {
    let Some(found) = find(transaction, series_id).await? else {
        return Ok(ApiError::not_found(SERIES_TYPE, format!("series/{series_id}")));
    };
    let subject = format!("series/{series_id}");
    Ok(match found.check_issue(issue_date, today) {
        Err(NumberRefused::Closed) => ApiError::FailedPrecondition {
            reason: "SERIES_CLOSED",
            violation_type: "STATE",
            subject,
            description: NumberRefused::Closed.to_string(),
        },
        Err(NumberRefused::Exhausted) => ApiError::FailedPrecondition {
            reason: "SERIES_EXHAUSTED",
            violation_type: "NUMBERS",
            subject,
            description: NumberRefused::Exhausted.to_string(),
        },
        Err(NumberRefused::DateOutOfOrder(description)) => {
            ApiError::invalid("DATE_OUT_OF_ORDER", "content.issue_date", description)
        }
        Ok(()) => ApiError::internal(format!("series {series_id} refused a number without a reason")),
    })
}

fn model_of(row: &QueryResult) -> Result<series::Model, ApiError> {
    Ok(series::Model {
        id: row.try_get("", "id")?,
        series_id: row.try_get("", "series_id")?,
        branch_code: row.try_get("", "branch_code")?,
        year: row.try_get("", "year")?,
        kind: row.try_get("", "kind")?,
        template_symbol: row.try_get("", "template_symbol")?,
        series_symbol: row.try_get("", "series_symbol")?,
        state: row.try_get("", "state")?,
        last_number: row.try_get("", "last_number")?,
        last_issue_date: row.try_get("", "last_issue_date")?,
        create_time: row.try_get("", "create_time")?,
        close_time: row.try_get("", "close_time")?,
        close_reason: row.try_get("", "close_reason")?,
    })
}

fn decode(row: &series::Model) -> Result<Series, ApiError> {
    let corrupt = |what: &str| ApiError::internal(format!("series row {}: bad {what}", row.id));
    Ok(Series {
        series_id: row.series_id.clone(),
        branch_code: row.branch_code.clone(),
        year: row.year,
        kind: ReceiptKind::from_code(i32::from(row.kind)).ok_or_else(|| corrupt("kind"))?,
        template_symbol: row.template_symbol.clone(),
        series_symbol: row.series_symbol.clone(),
        state: SeriesState::from_code(i32::from(row.state)).ok_or_else(|| corrupt("state"))?,
        last_number: row.last_number,
        last_issue_date: if row.last_issue_date.is_empty() {
            None
        } else {
            Some(NaiveDate::parse_from_str(&row.last_issue_date, "%Y-%m-%d").map_err(|_| corrupt("last_issue_date"))?)
        },
        create_time: row.create_time,
        close_time: row.close_time,
        close_reason: row.close_reason.clone(),
    })
}
