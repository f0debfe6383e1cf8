//! The single row of `witness_key`: the witness's Ed25519 key, encrypted PKCS#8, shared by every
//! replica.

use sea_orm::entity::prelude::*;

/// The witness key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "witness_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub encrypted_key: Vec<u8>,
    pub public_key: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
