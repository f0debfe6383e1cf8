//! A row of `checkpoints`: the signed note of one tree size.

use sea_orm::entity::prelude::*;

/// A checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub note: String,
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
