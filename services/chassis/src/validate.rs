//! The one way a service validates a request: collect every field violation, then answer
//! INVALID_ARGUMENT with a `BadRequest` listing them all; with the checks every service shares (the
//! free-text limit, codes, calendar dates and their `google.type.Date` form). A service's own rules
//! extend [`Violations`] through a type [`service_violations!`](crate::service_violations) declares;
//! no check quotes the offending value (it may be personal data).

use chrono::{Datelike, NaiveDate};
use motcua_proto::google::r#type::Date;

use crate::error::{ApiError, FieldViolation};

/// The longest free text (names, reasons, comments, notes) a request may carry, in characters.
pub const MAX_TEXT: usize = 2000;

/// The longest staff code (an officer's, a signer's, a certificate holder's), in ASCII characters: the
/// same in every service, as the code intake or receipt accepts is the one signing is asked to sign as.
pub const MAX_STAFF_CODE: usize = 64;

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
        self.text_within(field, text, required, MAX_TEXT);
    }

    /// Free text in `field` that ends up where [`MAX_TEXT`] is too long (a certificate's common name, a
    /// transparency log entry): given (not blank) when `required`, and at most `max_chars` characters.
    pub fn text_within(&mut self, field: &str, text: &str, required: bool, max_chars: usize) {
        if required && text.trim().is_empty() {
            self.add(field, "required");
        } else if text.chars().count() > max_chars {
            self.add(field, format!("at most {max_chars} characters"));
        }
    }

    /// A code in `field` (a staff code, a branch or procedure code, a tax code): at most `max` printable
    /// ASCII characters without spaces, given when `required`. Codes travel between services, so one
    /// rule for them all keeps a code one service accepts from being refused by the next.
    pub fn code(&mut self, field: &str, code: &str, max: usize, required: bool) {
        if required && code.is_empty() {
            self.add(field, "required");
        } else if code.len() > max || !code.bytes().all(|byte| byte.is_ascii_graphic()) {
            self.add(field, format!("at most {max} printable ASCII characters"));
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

    /// The calendar date in `field`, which must be given: `None` (and a violation) when absent or invalid.
    pub fn required_date(&mut self, field: &str, date: Option<&Date>) -> Option<NaiveDate> {
        if date.is_none() {
            self.add(field, "required");
        }
        self.date(field, date)
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

/// Declares a service's request checks: a type that reads as the kit's [`Violations`] (it dereferences
/// to it and finishes the same way), to which the service adds its own rules in an `impl` block; Rust
/// lets only the crate that owns a type add methods to it, so each service names its own.
///
/// ```
/// motcua_chassis::service_violations! {
///     /// The example's request checks.
///     pub struct Violations;
/// }
/// impl Violations {
///     /// A positive count in `field`.
///     pub fn count(&mut self, field: &str, count: i32) {
///         if count <= 0 {
///             self.add(field, "a positive number");
///         }
///     }
/// }
/// let mut violations = Violations::default();
/// violations.count("copies", 0);
/// violations.text("note", "", false);
/// assert!(violations.finish().is_err());
/// ```
#[macro_export]
macro_rules! service_violations {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        $vis struct $name($crate::validate::Violations);

        impl ::std::ops::Deref for $name {
            type Target = $crate::validate::Violations;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl ::std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }

        impl $name {
            /// INVALID_ARGUMENT with every violation, if there is any.
            $vis fn finish(self) -> ::std::result::Result<(), $crate::ApiError> {
                self.0.finish()
            }

            /// INVALID_ARGUMENT with every violation, if there is any, with `reason` unless a violation
            /// brought its own.
            $vis fn finish_as(self, reason: &'static str) -> ::std::result::Result<(), $crate::ApiError> {
                self.0.finish_as(reason)
            }
        }
    };
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
    fn a_field_with_its_own_limit_and_a_code_are_held_to_it() {
        let mut violations = Violations::default();
        violations.text_within("display_name", &"ê".repeat(200), true, 200);
        violations.code("branch_code", "CN01", 64, true);
        violations.code("phone", "", 16, false);
        assert!(violations.is_empty(), "all within their limits");
        violations.text_within("display_name", &"ê".repeat(201), true, 200);
        violations.code("signer_id", "", 64, true);
        violations.code("holder_id", "cán bộ", 64, true);
        violations.code("procedure_code", &"1".repeat(41), 40, false);
        let Err(ApiError::InvalidArgument { violations, .. }) = violations.finish() else {
            panic!("four fields are invalid");
        };
        assert_eq!(
            violations,
            vec![
                FieldViolation::new("display_name", "at most 200 characters"),
                FieldViolation::new("signer_id", "required"),
                FieldViolation::new("holder_id", "at most 64 printable ASCII characters"),
                FieldViolation::new("procedure_code", "at most 40 printable ASCII characters"),
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
        assert_eq!(violations.required_date("period.date", Some(&date_to_proto(day))), Some(day));
        assert!(violations.is_empty(), "a given date is what a required one needs");
        let mut required = Violations::default();
        assert_eq!(required.required_date("period.date", None), None);
        assert_eq!(
            required.finish().map_err(|error| error.to_string()),
            Err("invalid request: period.date: required".to_owned())
        );
        assert_eq!(violations.date("issue_date", Some(&Date { year: 2025, month: 13, day: 1 })), None);
        assert_eq!(
            violations.finish().map_err(|error| error.to_string()),
            Err("invalid request: issue_date: not a calendar date".to_owned())
        );
    }
}
