//! Reporting periods: a day, month, quarter, year or custom run of days, as a first and last day.

use chrono::{Datelike, Months, NaiveDate};

/// The kind of a period (the proto's `PeriodKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Day,
    Month,
    Quarter,
    Year,
    Custom,
}

/// Why a period cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("a custom period needs an end date")]
    MissingEnd,
    #[error("the end date is before the first day")]
    EndBeforeStart,
    #[error("a period longer than 100 years is not a report")]
    TooLong,
}

/// The first and last day (inclusive) of the period of `kind` around `date` (to `end` for a custom one).
pub fn bounds(
    kind: PeriodKind,
    date: NaiveDate,
    end: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), PeriodError> {
    let month_start = |month: u32| NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date);
    let (first, last) = match kind {
        PeriodKind::Day => (date, date),
        PeriodKind::Month => {
            let first = month_start(date.month());
            (first, last_day_before(first, 1))
        }
        PeriodKind::Quarter => {
            let first = month_start((date.month0() / 3) * 3 + 1);
            (first, last_day_before(first, 3))
        }
        PeriodKind::Year => {
            let first = month_start(1);
            (first, last_day_before(first, 12))
        }
        PeriodKind::Custom => {
            let end = end.ok_or(PeriodError::MissingEnd)?;
            if end < date {
                return Err(PeriodError::EndBeforeStart);
            }
            if (end - date).num_days() > 366 * 100 {
                return Err(PeriodError::TooLong);
            }
            (date, end)
        }
    };
    Ok((first, last))
}

/// The day before `first` plus `months` months.
fn last_day_before(first: NaiveDate, months: u32) -> NaiveDate {
    first.checked_add_months(Months::new(months)).and_then(|next| next.pred_opt()).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
    }

    #[test]
    fn a_month_quarter_and_year_run_from_their_first_to_their_last_day() {
        assert_eq!(bounds(PeriodKind::Month, date(2024, 2, 17), None), Ok((date(2024, 2, 1), date(2024, 2, 29))));
        assert_eq!(bounds(PeriodKind::Quarter, date(2025, 8, 3), None), Ok((date(2025, 7, 1), date(2025, 9, 30))));
        assert_eq!(bounds(PeriodKind::Year, date(2025, 8, 3), None), Ok((date(2025, 1, 1), date(2025, 12, 31))));
        assert_eq!(bounds(PeriodKind::Day, date(2025, 8, 3), None), Ok((date(2025, 8, 3), date(2025, 8, 3))));
    }

    #[test]
    fn a_custom_period_needs_an_end_not_before_its_start() {
        assert_eq!(bounds(PeriodKind::Custom, date(2025, 8, 3), None), Err(PeriodError::MissingEnd));
        assert_eq!(
            bounds(PeriodKind::Custom, date(2025, 8, 3), Some(date(2025, 8, 2))),
            Err(PeriodError::EndBeforeStart)
        );
        assert_eq!(
            bounds(PeriodKind::Custom, date(2025, 8, 3), Some(date(2025, 9, 2))),
            Ok((date(2025, 8, 3), date(2025, 9, 2)))
        );
    }
}
