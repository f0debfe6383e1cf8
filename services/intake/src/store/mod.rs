//! Intake's storage: sea-orm entities and the queries the service needs. Transactions live here.

pub mod catalogue;
pub mod documents;
pub mod dossiers;
pub mod entities;
pub mod follow_ups;
