//! The errors a handler returns, and their mapping to `tonic::Status` with the `google.rpc` details of
//! AIP-193: every error carries an `ErrorInfo` (reason in UPPER_SNAKE, the service's domain), plus
//! `BadRequest` field violations, a `PreconditionFailure` or a `ResourceInfo` where they apply, so a
//! caller can act on it without reading prose.

use std::{collections::HashMap, time::Duration};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// When a caller told UNAVAILABLE (a peer or the database down, or busy) is told to try again.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// One invalid field of a request: the field's path (`page_size`, `applicant.citizen.phone`) and what
/// is wrong with it. The description must never quote personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, in proto field names.
    pub field: String,
    /// What is wrong, for a developer.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// What a handler can fail with. Each variant maps to one canonical code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request is invalid: INVALID_ARGUMENT with one field violation per problem.
    #[error("invalid request: {}", violations_text(.violations))]
    InvalidArgument {
        /// ErrorInfo reason, e.g. `INVALID_PAGE_TOKEN`.
        reason: &'static str,
        /// The fields at fault.
        violations: Vec<FieldViolation>,
    },
    /// The named resource does not exist: NOT_FOUND with a ResourceInfo.
    #[error("{resource_type} {resource_name} not found")]
    NotFound {
        /// The resource's type, e.g. `motcua.intake.v1.Procedure`.
        resource_type: &'static str,
        /// The resource name asked for.
        resource_name: String,
    },
    /// The resource's state forbids the change: FAILED_PRECONDITION with a PreconditionFailure.
    #[error("{description}")]
    FailedPrecondition {
        /// ErrorInfo reason, e.g. `INVALID_STATUS_TRANSITION`.
        reason: &'static str,
        /// The violated precondition's type, e.g. `STATUS`.
        violation_type: &'static str,
        /// The subject, e.g. `dossiers/000.00.12.H26-250301-0001`.
        subject: String,
        /// What is wrong, for a developer.
        description: String,
    },
    /// The resource already exists, or a request id was reused with another body: ALREADY_EXISTS.
    #[error("{description}")]
    AlreadyExists {
        /// ErrorInfo reason, e.g. `REQUEST_ID_REUSED`.
        reason: &'static str,
        /// What is wrong, for a developer.
        description: String,
    },
    /// The caller could not be identified: UNAUTHENTICATED.
    #[error("{description}")]
    Unauthenticated {
        /// ErrorInfo reason, e.g. `NO_IDENTITY`.
        reason: &'static str,
        /// What is wrong, for a developer.
        description: String,
    },
    /// The caller may not do this: PERMISSION_DENIED.
    #[error("{description}")]
    PermissionDenied {
        /// ErrorInfo reason, e.g. `RPC_NOT_ALLOWED`.
        reason: &'static str,
        /// What is wrong, for a developer.
        description: String,
    },
    /// A limit was reached: RESOURCE_EXHAUSTED with RetryInfo.
    #[error("{description}")]
    ResourceExhausted {
        /// ErrorInfo reason, e.g. `RATE_LIMITED`.
        reason: &'static str,
        /// What is wrong, for a developer.
        description: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// A dependency is down or the database is busy: UNAVAILABLE with RetryInfo, safe to retry with
    /// the same request id.
    #[error("{description}")]
    Unavailable {
        /// ErrorInfo reason, e.g. `DATABASE_UNAVAILABLE`.
        reason: &'static str,
        /// What is wrong, for a developer.
        description: String,
    },
    /// A fault of the service itself: INTERNAL. The detail is logged, not sent.
    #[error("internal error: {detail}")]
    Internal {
        /// What went wrong, for the log only.
        detail: String,
    },
}

impl ApiError {
    /// An INVALID_ARGUMENT with one violated field.
    pub fn invalid(reason: &'static str, field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument { reason, violations: vec![FieldViolation::new(field, description)] }
    }

    /// A NOT_FOUND of `resource_name`.
    pub fn not_found(resource_type: &'static str, resource_name: impl Into<String>) -> Self {
        Self::NotFound { resource_type, resource_name: resource_name.into() }
    }

    /// An INTERNAL error; `detail` goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal { detail: detail.to_string() }
    }

    /// The `ErrorInfo` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidArgument { reason, .. }
            | Self::FailedPrecondition { reason, .. }
            | Self::AlreadyExists { reason, .. }
            | Self::Unauthenticated { reason, .. }
            | Self::PermissionDenied { reason, .. }
            | Self::ResourceExhausted { reason, .. }
            | Self::Unavailable { reason, .. } => reason,
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Internal { .. } => "INTERNAL",
        }
    }

    /// The canonical code this error answers with.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::NotFound { .. } => Code::NotFound,
            Self::FailedPrecondition { .. } => Code::FailedPrecondition,
            Self::AlreadyExists { .. } => Code::AlreadyExists,
            Self::Unauthenticated { .. } => Code::Unauthenticated,
            Self::PermissionDenied { .. } => Code::PermissionDenied,
            Self::ResourceExhausted { .. } => Code::ResourceExhausted,
            Self::Unavailable { .. } => Code::Unavailable,
            Self::Internal { .. } => Code::Internal,
        }
    }

    /// The status sent to the caller, with `domain` (the service's, e.g. `intake.motcua`) in its
    /// ErrorInfo.
    pub fn into_status(self, domain: &str) -> Status {
        let mut details = ErrorDetails::new();
        details.set_error_info(self.reason(), domain, HashMap::new());
        let code = self.code();
        let message = match self {
            Self::InvalidArgument { violations, .. } => {
                let message = format!("invalid request: {}", violations_text(&violations));
                for violation in violations {
                    details.add_bad_request_violation(violation.field, violation.description);
                }
                message
            }
            Self::NotFound { resource_type, resource_name } => {
                let message = format!("{resource_type} {resource_name} not found");
                details.set_resource_info(resource_type, resource_name, "", "no such resource");
                message
            }
            Self::FailedPrecondition { violation_type, subject, description, .. } => {
                details.add_precondition_failure_violation(violation_type, subject, description.clone());
                description
            }
            Self::AlreadyExists { description, .. }
            | Self::Unauthenticated { description, .. }
            | Self::PermissionDenied { description, .. } => description,
            Self::ResourceExhausted { description, retry_after, .. } => {
                details.set_retry_info(Some(retry_after));
                description
            }
            Self::Unavailable { description, .. } => {
                details.set_retry_info(Some(UNAVAILABLE_RETRY_AFTER));
                description
            }
            Self::Internal { detail } => {
                tracing::error!(error = %detail, "internal error");
                "internal error; the service has logged it".to_owned()
            }
        };
        Status::with_error_details(code, message, details)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => Self::Unavailable {
                reason: "DATABASE_UNAVAILABLE",
                description: "the database is unavailable; retry".to_owned(),
            },
            other if is_contention(&other.to_string()) => Self::Unavailable {
                reason: "DATABASE_BUSY",
                description: "the database is busy with a concurrent change; retry with the same request id".to_owned(),
            },
            other => Self::internal(other),
        }
    }
}

/// Whether a database error is contention that a retry resolves: SQLite's busy or locked database
/// (another process writing the same file), PostgreSQL's serialization failure, deadlock or lock
/// timeout. Read from the message, which carries the drivers' codes, so the chassis needs no driver
/// types.
fn is_contention(message: &str) -> bool {
    const SIGNS: [&str; 7] = [
        "database is locked",
        "database table is locked",
        "(code: 5)",
        "(code: 517)",
        "could not serialize access",
        "deadlock detected",
        "lock timeout",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

fn violations_text(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|violation| format!("{}: {}", violation.field, violation.description))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod contention_tests {
    use super::is_contention;

    #[test]
    fn busy_locked_and_serialization_errors_are_contention_and_others_are_not() {
        assert!(is_contention("Execution Error: error returned from database: (code: 5) database is locked"));
        assert!(is_contention("error returned from database: could not serialize access due to concurrent update"));
        assert!(is_contention("error returned from database: deadlock detected"));
        assert!(!is_contention("error returned from database: UNIQUE constraint failed: dossiers.dossier_code"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_error_info_and_field_violations() {
        let status =
            ApiError::invalid("INVALID_PAGE_SIZE", "page_size", "must not be negative").into_status("intake.motcua");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let info = details.error_info().expect("every error has an ErrorInfo");
        assert_eq!((info.reason.as_str(), info.domain.as_str()), ("INVALID_PAGE_SIZE", "intake.motcua"));
        let violations = &details.bad_request().expect("field violations").field_violations;
        assert_eq!(violations[0].field, "page_size");
    }

    #[test]
    fn not_found_names_the_resource() {
        let status =
            ApiError::not_found("motcua.intake.v1.Procedure", "procedures/9.999999").into_status("intake.motcua");
        assert_eq!(status.code(), Code::NotFound);
        let details = status.get_error_details();
        assert_eq!(details.resource_info().expect("resource info").resource_name, "procedures/9.999999");
    }

    #[test]
    fn precondition_failure_names_the_violation() {
        let status = ApiError::FailedPrecondition {
            reason: "INVALID_STATUS_TRANSITION",
            violation_type: "STATUS",
            subject: "dossiers/x".to_owned(),
            description: "a returned dossier cannot be withdrawn".to_owned(),
        }
        .into_status("intake.motcua");
        assert_eq!(status.code(), Code::FailedPrecondition);
        let details = status.get_error_details();
        assert_eq!(details.precondition_failure().expect("precondition failure").violations[0].r#type, "STATUS");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let status = ApiError::internal("disk on fire at /var/lib").into_status("intake.motcua");
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("/var/lib"));
    }
}
