//! A row of `cosignatures`: a witness's verified cosignature of one of the log's checkpoints.

use sea_orm::entity::prelude::*;

/// A cosignature.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cosignatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tree_size: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub witness_name: String,
    /// The signed-note line, `— <witness name> <base64>` and its newline.
    pub signature_line: String,
    /// The cosignature's own timestamp.
    pub cosigned_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
