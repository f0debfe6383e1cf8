//! The one way a service validates a request: collect every field violation, then answer
//! INVALID_ARGUMENT with a `BadRequest` listing them all; with the checks every service shares (the
//! free-text limit, calendar dates and their `google.type.Date` form). A service's own rules extend
//! [`Violations`]; no check quotes the offending value (it may be personal data).

use chrono::{Datelike, NaiveDate};
use motcua_proto::google::r#type::Date;

use crate::error::{ApiError, FieldViolation};

/// The longest free text (names, reasons, comments, notes) a request may carry, in characters.
pub const MAX_TEXT: usize = 2000;

/// The ErrorInfo reason when no violation has a reason of its own.
const GENERIC_REASON: &str = "INVALID_ARGUMENT";

/// The violations of one request, and the ErrorInfo reason of the first that has one.
#[derive(Debug, Default)]
pub struct Violations {
    violations: Vec<FieldViolation>,
    reason: Option<&'static str>,
}

impl Violations {
    /// Adds a violation of `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation::new(field, description));
    }

    /// Adds a violation whose kind has a reason of its own (`INVALID_APPLICANT`); the first such reason
    /// is the error's.
    pub fn add_with_reason(&mut self, reason: &'static str, field: impl Into<String>, description: impl Into<String>) {
        self.reason.get_or_insert(reason);
        self.add(field, description);
    }

    /// Whether nothing is wrong so far.
    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// Free text in `field`: given (not blank) when `required`, and at most [`MAX_TEXT`] characters.
    pub fn text(&mut self, field: &str, text: &str, required: bool) {
        if required && text.trim().is_empty() {
            self.add(field, "required");
        } else if text.chars().count() > MAX_TEXT {
            self.add(field, format!("at most {MAX_TEXT} characters"));
        }
    }

    /// The calendar date in `field`: `None` when absent, and when invalid (then a violation is added).
    pub fn date(&mut self, field: &str, date: Option<&Date>) -> Option<NaiveDate> {
        let date = date?;
        let parsed = date_from_proto(date);
        if parsed.is_none() {
            self.add(field, "not a calendar date");
        }
        parsed
    }

    /// INVALID_ARGUMENT with every violation, if there is any.
    pub fn finish(self) -> Result<(), ApiError> {
        self.finish_as(GENERIC_REASON)
    }

    /// Like [`Violations::finish`], with `reason` unless a violation brought its own.
    pub fn finish_as(self, reason: &'static str) -> Result<(), ApiError> {
        if self.violations.is_empty() {
            return Ok(());
        }
        Err(ApiError::InvalidArgument { reason: self.reason.unwrap_or(reason), violations: self.violations })
    }
}

/// The `google.type.Date` of a calendar day.
pub fn date_to_proto(day: NaiveDate) -> Date {
    // Month and day are at most 31 and the year fits chrono's range: the casts cannot truncate.
    Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
}

/// The calendar day of a `google.type.Date`, if it is one (no zero month or day, no 30 February).
pub fn date_from_proto(date: &Date) -> Option<NaiveDate> {
    let month = u32::try_from(date.month).ok()?;
    let day = u32::try_from(date.day).ok()?;
    NaiveDate::from_ymd_opt(date.year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_violations_passes_and_one_with_them_lists_every_field() {
        assert_eq!(Violations::default().finish(), Ok(()));
        let mut violations = Violations::default();
        violations.text("reason", "  ", true);
        violations.text("note", &"x".repeat(MAX_TEXT + 1), false);
        violations.text("comment", "", false);
        violations.text("title", &"ê".repeat(MAX_TEXT), true);
        let Err(ApiError::InvalidArgument { reason, violations }) = violations.finish() else {
            panic!("two fields are invalid");
        };
        assert_eq!(reason, "INVALID_ARGUMENT");
        assert_eq!(
            violations,
            vec![
                FieldViolation::new("reason", "required"),
                FieldViolation::new("note", format!("at most {MAX_TEXT} characters")),
            ]
        );
    }

    #[test]
    fn the_first_specific_reason_names_the_error_whatever_the_default() {
        let mut violations = Violations::default();
        violations.add("page_size", "negative");
        violations.add_with_reason("INVALID_APPLICANT", "applicant.citizen.identity_number", "12 digits");
        violations.add_with_reason("MISSING_COMPONENTS", "components", "required");
        assert_eq!(violations.finish_as("INVALID_FILTER").map_err(|error| error.reason()), Err("INVALID_APPLICANT"));
        let mut generic = Violations::default();
        generic.add("page_size", "negative");
        assert_eq!(generic.finish_as("INVALID_FILTER").map_err(|error| error.reason()), Err("INVALID_FILTER"));
    }

    #[test]
    fn a_date_round_trips_and_an_absent_or_impossible_one_reads_as_none() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("a leap day");
        assert_eq!(date_to_proto(day), Date { year: 2024, month: 2, day: 29 });
        assert_eq!(date_from_proto(&date_to_proto(day)), Some(day));
        for impossible in [
            Date { year: 2025, month: 2, day: 29 },
            Date { year: 2025, month: 0, day: 1 },
            Date { year: 2025, month: -1, day: 1 },
            Date { year: 2025, month: 1, day: 0 },
        ] {
            assert_eq!(date_from_proto(&impossible), None, "{impossible:?}");
        }
        let mut violations = Violations::default();
        assert_eq!(violations.date("issue_date", None), None);
        assert!(violations.is_empty(), "an absent date is no violation");
        assert_eq!(violations.date("issue_date", Some(&Date { year: 2025, month: 13, day: 1 })), None);
        assert_eq!(
            violations.finish().map_err(|error| error.to_string()),
            Err("invalid request: issue_date: not a calendar date".to_owned())
        );
    }
}
