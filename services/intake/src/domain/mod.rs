//! The rules of intake, pure: no I/O, no tonic, no sea-orm, so they are tested in microseconds.

pub mod calendar;
pub mod catalogue;
pub mod text;
