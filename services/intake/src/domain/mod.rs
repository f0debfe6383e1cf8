//! The rules of intake, pure: no I/O, no tonic, no sea-orm, so they are tested in microseconds.

pub mod applicant;
pub mod calendar;
pub mod catalogue;
pub mod document;
pub mod dossier;
pub mod dossier_code;
pub mod lifecycle;
pub mod text;
