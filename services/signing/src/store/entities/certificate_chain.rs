//! A row of `certificate_chains`: a signer's certificate chain in PEM, stored once and referenced by
//! every signature made with it.

use sea_orm::entity::prelude::*;

/// A chain, keyed by the SHA-256 of its PEM.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_chains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_sha256: Vec<u8>,
    pub chain_pem: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
