//! A row of `authorities`: a root or a branch's intermediate.

use sea_orm::entity::prelude::*;

/// A certificate authority; its certificate (and key) is the `certificates` row `certificate_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub authority_id: String,
    pub kind: i16,
    pub branch_code: String,
    pub parent_id: Option<String>,
    pub display_name: String,
    pub certificate_id: String,
    pub imported: bool,
    pub crl_number: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
