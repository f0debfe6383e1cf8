//! A row of `log_leaves`: one leaf of the transparency log, its bytes and their leaf hash.

use sea_orm::entity::prelude::*;

/// A leaf.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_leaves")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub leaf_index: i64,
    pub leaf_data: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
