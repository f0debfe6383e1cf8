//! The applicants' electronic data stores: digitized documents with their extracted fields, cited by
//! later dossiers instead of a new upload.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    DocumentId,
    OwnerKeyHash,
    DocumentType,
    ReuseCount,
    Body,
    Content,
    CreateTime,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Documents::Id))
                    .col(string_len_uniq(Documents::DocumentId, 36))
                    .col(string_len(Documents::OwnerKeyHash, 64))
                    .col(string_len(Documents::DocumentType, 100))
                    .col(integer(Documents::ReuseCount))
                    .col(text(Documents::Body))
                    .col(blob(Documents::Content))
                    .col(timestamp_with_time_zone(Documents::CreateTime))
                    .to_owned(),
            )
            .await?;
        // A data store is listed by owner, newest first.
        manager
            .create_index(
                Index::create()
                    .name("documents_owner")
                    .table(Documents::Table)
                    .col(Documents::OwnerKeyHash)
                    .col(Documents::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
