//! Series: one branch, one year, one kind, one template symbol and series symbol, and one run of
//! 7-digit numbers from 0000001 with no gap and no reuse.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The last number a series can issue: numbers are printed with 7 digits.
pub const MAX_NUMBER: i64 = 9_999_999;

motcua_chassis::coded_enum! {
    /// What a series numbers; the codes are the contract's `ReceiptKind`.
    #[derive(Serialize, Deserialize)]
    pub enum ReceiptKind {
        /// An electronic receipt of fees and charges.
        FeeReceipt = 1,
        /// An acknowledgement slip with the appointment (form 01).
        AcknowledgementSlip = 2,
    }
}

impl ReceiptKind {
    /// The prefix of a rendering's file name: `BL` for a receipt (biên lai), `GTN` for a slip (giấy
    /// tiếp nhận).
    pub fn file_prefix(self) -> &'static str {
        match self {
            Self::FeeReceipt => "BL",
            Self::AcknowledgementSlip => "GTN",
        }
    }
}

motcua_chassis::coded_enum! {
    /// Whether a series still issues numbers; the codes are the contract's `SeriesState`.
    #[derive(Serialize, Deserialize)]
    pub enum SeriesState {
        /// Issues numbers.
        Open = 1,
        /// Issues no more numbers.
        Closed = 2,
    }
}

/// A series as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The id in `series/{series_id}`.
    pub series_id: String,
    /// The issuing branch.
    pub branch_code: String,
    /// The calendar year it serves.
    pub year: i32,
    /// Fee receipts or slips.
    pub kind: ReceiptKind,
    /// The template symbol (ký hiệu mẫu).
    pub template_symbol: String,
    /// The series symbol (ký hiệu).
    pub series_symbol: String,
    /// Open or closed.
    pub state: SeriesState,
    /// The last number issued; 0 before the first.
    pub last_number: i64,
    /// The date of the last number issued, which the next one may not precede.
    pub last_issue_date: Option<NaiveDate>,
    /// When it was created.
    pub create_time: DateTime<Utc>,
    /// When it was closed.
    pub close_time: Option<DateTime<Utc>>,
    /// Why it was closed.
    pub close_reason: String,
}

/// Why a number cannot be taken from a series.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberRefused {
    /// The series is closed.
    #[error("the series is closed: it issues no more numbers")]
    Closed,
    /// The series used all its numbers.
    #[error("the series has used its {MAX_NUMBER} numbers")]
    Exhausted,
    /// The date is outside the series' year, in the future, or before the previous number's date.
    #[error("{0}")]
    DateOutOfOrder(String),
}

impl Series {
    /// Whether the series may number a receipt dated `issue_date` when today is `today`.
    pub fn check_issue(&self, issue_date: NaiveDate, today: NaiveDate) -> Result<(), NumberRefused> {
        if self.state == SeriesState::Closed {
            return Err(NumberRefused::Closed);
        }
        if self.last_number >= MAX_NUMBER {
            return Err(NumberRefused::Exhausted);
        }
        if issue_date.year() != self.year {
            return Err(NumberRefused::DateOutOfOrder(format!("the date must fall in the series' year {}", self.year)));
        }
        if issue_date > today {
            return Err(NumberRefused::DateOutOfOrder("the date must not be in the future".to_owned()));
        }
        if let Some(last) = self.last_issue_date.filter(|last| issue_date < *last) {
            return Err(NumberRefused::DateOutOfOrder(format!(
                "the date must not precede the previous number's date {last}"
            )));
        }
        Ok(())
    }
}

/// A number as printed: 7 digits (`0000123`).
pub fn number_text(number: i64) -> String {
    format!("{number:07}")
}

/// Whether `series_id` is 1 to 63 lowercase letters, digits and hyphens, starting with a letter or
/// digit.
pub fn is_valid_series_id(series_id: &str) -> bool {
    !series_id.is_empty()
        && series_id.len() <= 63
        && !series_id.starts_with('-')
        && series_id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// Whether `symbol` (a template or series symbol such as `1`, `01BLP0-001` or `AB-25E`) is 1 to 20
/// uppercase letters, digits, hyphens and slashes.
pub fn is_valid_symbol(symbol: &str) -> bool {
    !symbol.is_empty()
        && symbol.len() <= 20
        && symbol.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_series() -> Series {
        Series {
            series_id: "cn01-2025-bl".to_owned(),
            branch_code: "CN01".to_owned(),
            year: 2025,
            kind: ReceiptKind::FeeReceipt,
            template_symbol: "01BLP0-001".to_owned(),
            series_symbol: "AB-25E".to_owned(),
            state: SeriesState::Open,
            last_number: 41,
            last_issue_date: NaiveDate::from_ymd_opt(2025, 3, 10),
            create_time: DateTime::from_timestamp(1_741_000_000, 0).expect("a valid time"),
            close_time: None,
            close_reason: String::new(),
        }
    }

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, month, day).expect("a calendar date")
    }

    #[test]
    fn numbers_print_with_seven_digits() {
        assert_eq!(number_text(1), "0000001");
        assert_eq!(number_text(MAX_NUMBER), "9999999");
    }

    #[test]
    fn a_receipt_date_must_fall_in_the_year_not_in_the_future_and_not_before_the_previous_number() {
        let series = open_series();
        assert_eq!(series.check_issue(day(3, 10), day(6, 1)), Ok(()));
        assert!(matches!(series.check_issue(day(3, 9), day(6, 1)), Err(NumberRefused::DateOutOfOrder(_))));
        assert!(matches!(series.check_issue(day(6, 2), day(6, 1)), Err(NumberRefused::DateOutOfOrder(_))));
        let next_year = NaiveDate::from_ymd_opt(2026, 1, 2).expect("a calendar date");
        assert!(matches!(series.check_issue(next_year, next_year), Err(NumberRefused::DateOutOfOrder(_))));
    }

    #[test]
    fn a_closed_or_exhausted_series_issues_no_number() {
        let closed = Series { state: SeriesState::Closed, ..open_series() };
        assert_eq!(closed.check_issue(day(4, 1), day(4, 1)), Err(NumberRefused::Closed));
        let full = Series { last_number: MAX_NUMBER, ..open_series() };
        assert_eq!(full.check_issue(day(4, 1), day(4, 1)), Err(NumberRefused::Exhausted));
    }

    #[test]
    fn series_ids_and_symbols_have_their_alphabets() {
        assert!(is_valid_series_id("cn01-2025-bl"));
        assert!(!is_valid_series_id("CN01"));
        assert!(!is_valid_series_id("-x"));
        assert!(is_valid_symbol("01BLP0-001"));
        assert!(is_valid_symbol("AB-25E"));
        assert!(!is_valid_symbol("ab"));
        assert!(!is_valid_symbol(""));
    }
}
