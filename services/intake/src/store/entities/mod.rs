//! sea-orm entities of intake's tables.

pub mod branch;
pub mod document;
pub mod dossier;
pub mod dossier_history;
pub mod procedure;
