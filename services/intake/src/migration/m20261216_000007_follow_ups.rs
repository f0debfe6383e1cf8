//! What each dossier's follow-up jobs produced: one row per dossier and kind of job (the slip, a fee
//! receipt), written in the job's own transaction with its `FollowUpDone` event, so a job that runs
//! twice records once. The jobs' states stay in the chassis's `jobs` table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FollowUps {
    Table,
    Id,
    DossierCode,
    Kind,
    Receipt,
    ReceiptNumber,
    LookupCode,
    SignatureLogIndex,
    Attempts,
    DoneAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FollowUps::Table)
                    .if_not_exists()
                    .col(big_pk_auto(FollowUps::Id))
                    .col(string_len(FollowUps::DossierCode, 64))
                    .col(string_len(FollowUps::Kind, 64))
                    .col(string_len(FollowUps::Receipt, 200))
                    .col(string_len(FollowUps::ReceiptNumber, 20))
                    .col(string_len(FollowUps::LookupCode, 40))
                    .col(big_integer_null(FollowUps::SignatureLogIndex))
                    .col(integer(FollowUps::Attempts))
                    .col(timestamp_with_time_zone(FollowUps::DoneAt))
                    .to_owned(),
            )
            .await?;
        // One result per dossier and kind: a job that runs again finds it and records nothing.
        manager
            .create_index(
                Index::create()
                    .name("follow_ups_dossier_kind")
                    .table(FollowUps::Table)
                    .col(FollowUps::DossierCode)
                    .col(FollowUps::Kind)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
