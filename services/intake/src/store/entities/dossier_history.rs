//! A row of `dossier_history`: one move, append-only.

use sea_orm::entity::prelude::*;

/// One history entry; `body` is the domain `HistoryEntry` as JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dossier_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dossier_id: i64,
    pub sequence: i32,
    pub body: String,
    pub time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
