//! sea-orm entities of intake's tables.

pub mod branch;
pub mod procedure;
