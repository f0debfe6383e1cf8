//! sea-orm entities of receipt's tables.

pub mod receipt;
pub mod series;
