//! A row of `log_tiles`: one C2SP tlog-tiles hash tile of the transparency log, as it is served.

use sea_orm::entity::prelude::*;

/// A hash tile: up to 256 32-byte hashes of level `level` (subtrees of height 8 × level), from hash
/// `tile_index` × 256. A full tile is never rewritten; the right-edge partial tile of each level is
/// replaced as it grows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_tiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub level: i16,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tile_index: i64,
    pub hashes: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
