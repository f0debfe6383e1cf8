//! The identity that filed each dossier, as a column: a restricted caller (an agency) lists only its
//! own dossiers and those of its procedures, and the listing filters on it in the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dossiers {
    Table,
    Id,
    SubmitterIdentity,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Dossiers::Table)
                    .add_column(string_len(Dossiers::SubmitterIdentity, 100).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("dossiers_submitter")
                    .table(Dossiers::Table)
                    .col(Dossiers::SubmitterIdentity)
                    .col(Dossiers::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
