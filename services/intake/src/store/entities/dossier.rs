//! A row of `dossiers`: the columns every listing filters on, and the whole dossier as JSON.

use sea_orm::entity::prelude::*;

/// One dossier. `body` is the domain `Dossier` as JSON; `revision` guards against lost updates.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dossiers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub dossier_code: String,
    pub branch_code: String,
    pub agency_code: String,
    pub procedure_code: String,
    pub status: i16,
    pub channel: i16,
    pub level: i16,
    pub applicant_key_hash: String,
    pub received_day: Option<String>,
    pub appointment_time: Option<DateTimeUtc>,
    pub is_open: bool,
    pub revision: i32,
    pub body: String,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    pub submitter_identity: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
