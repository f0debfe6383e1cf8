//! A row of `crls`: one signed CRL of an authority, by number.

use sea_orm::entity::prelude::*;

/// A CRL as issued.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub authority_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub crl_number: i64,
    pub this_update: DateTimeUtc,
    pub next_update: DateTimeUtc,
    pub crl_der: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
