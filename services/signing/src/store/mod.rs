//! Signing's storage: sea-orm entities and the queries and transactions the service needs.

pub mod entities;
pub mod log;
pub mod log_batch;
pub mod pki;
pub mod signatures;

/// Whether `error` is a unique-key violation: a concurrent writer got there first.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
