//! The rules of reporting, pure: no I/O, no tonic, no sea-orm, so they are tested in microseconds.

pub mod csv;
pub mod index;
pub mod metrics;
pub mod period;
pub mod projection;
