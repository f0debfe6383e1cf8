//! A row of `documents`: one document of an applicant's data store.

use sea_orm::entity::prelude::*;

/// One document. `body` is the domain `StoredDocument` as JSON (its metadata, with the owner's
/// identifier); `content` the bytes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub document_id: String,
    pub owner_key_hash: String,
    pub document_type: String,
    pub reuse_count: i32,
    pub body: String,
    pub content: Vec<u8>,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
