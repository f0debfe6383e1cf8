//! A row of `witnessed_logs`: the latest checkpoint the witness cosigned of one log, by origin.

use sea_orm::entity::prelude::*;

/// A witnessed log's latest cosigned checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "witnessed_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub origin: String,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub note: String,
    pub cosigned_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
