//! The usage report: per series and period, the numbers used, cancelled, replaced and adjusted and the
//! amount collected, counted by the database.

use chrono::NaiveDate;
use motcua_chassis::{ApiError, db::placeholders};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};

use super::{day_text, series::SeriesFilter};
use crate::domain::{
    receipt::{ReceiptState, Relation},
    series::Series,
};

/// The usage of one series over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesUsage {
    /// The series.
    pub series: Series,
    /// The first number issued in the period; 0 when none was.
    pub first_number: i64,
    /// The last number issued in the period; 0 when none was.
    pub last_number: i64,
    /// How many numbers were used.
    pub used_count: i64,
    /// The cancelled numbers, in order.
    pub cancelled_numbers: Vec<i64>,
    /// How many were replaced.
    pub replaced_count: i64,
    /// How many are adjustments.
    pub adjustment_count: i64,
    /// The amount collected: valid receipts' totals, adjustments counting their differences.
    pub total_collected: i64,
}

/// The usage of every series matching `filter` (and `series_id`, when set) between `start` and `end`
/// inclusive, ordered by branch and symbols.
pub async fn report(
    db: &DatabaseConnection,
    filter: &SeriesFilter,
    series_id: Option<&str>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<SeriesUsage>, ApiError> {
    let mut all_series = Vec::new();
    let mut after = None;
    loop {
        let page = super::series::list(db, filter, after.as_ref(), 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(super::series::position(last));
        all_series.extend(page.into_iter().filter(|series| series_id.is_none_or(|id| series.series_id == id)));
    }
    let mut report = Vec::with_capacity(all_series.len());
    for series in all_series {
        report.push(usage_of(db, series, start, end).await?);
    }
    Ok(report)
}

async fn usage_of(
    db: &DatabaseConnection,
    series: Series,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<SeriesUsage, ApiError> {
    let backend = db.get_database_backend();
    let period =
        || vec![Value::from(series.series_id.clone()), Value::from(day_text(start)), Value::from(day_text(end))];
    let counts = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                &format!(
                    "SELECT MIN(number) AS first_number, MAX(number) AS last_number, COUNT(*) AS used_count, \
                     CAST(COALESCE(SUM(CASE WHEN state = {replaced} THEN 1 ELSE 0 END), 0) AS BIGINT) AS replaced_count, \
                     CAST(COALESCE(SUM(CASE WHEN relation = {adjustment} THEN 1 ELSE 0 END), 0) AS BIGINT) AS adjustment_count, \
                     CAST(COALESCE(SUM(CASE WHEN state IN ({issued}, {adjusted}) THEN total ELSE 0 END), 0) AS BIGINT) AS collected \
                     FROM receipts WHERE series_id = $1 AND issue_date >= $2 AND issue_date <= $3",
                    replaced = ReceiptState::Replaced as i16,
                    adjustment = Relation::Adjustment as i16,
                    issued = ReceiptState::Issued as i16,
                    adjusted = ReceiptState::Adjusted as i16,
                ),
            ),
            period(),
        ))
        .await?
        .ok_or_else(|| ApiError::internal("an aggregate returned no row"))?;
    let cancelled_numbers = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                &format!(
                    "SELECT number FROM receipts WHERE series_id = $1 AND issue_date >= $2 AND issue_date <= $3 \
                     AND state = {cancelled} ORDER BY number",
                    cancelled = ReceiptState::Cancelled as i16
                ),
            ),
            period(),
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "number"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SeriesUsage {
        first_number: counts.try_get::<Option<i64>>("", "first_number")?.unwrap_or(0),
        last_number: counts.try_get::<Option<i64>>("", "last_number")?.unwrap_or(0),
        used_count: counts.try_get("", "used_count")?,
        cancelled_numbers,
        replaced_count: counts.try_get("", "replaced_count")?,
        adjustment_count: counts.try_get("", "adjustment_count")?,
        total_collected: counts.try_get("", "collected")?,
        series,
    })
}
