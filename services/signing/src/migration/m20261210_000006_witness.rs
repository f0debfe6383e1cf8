//! The witness's tables: its own Ed25519 key, the latest checkpoint it cosigned of each log it
//! witnesses, and, on the log's side, the cosignatures its witnesses returned.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WitnessKey {
    Table,
    Id,
    EncryptedKey,
    PublicKey,
}

#[derive(DeriveIden)]
enum WitnessedLogs {
    Table,
    Origin,
    TreeSize,
    RootHash,
    Note,
    CosignedAt,
}

#[derive(DeriveIden)]
enum Cosignatures {
    Table,
    TreeSize,
    WitnessName,
    SignatureLine,
    CosignedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WitnessKey::Table)
                    .if_not_exists()
                    .col(integer(WitnessKey::Id).primary_key())
                    .col(blob(WitnessKey::EncryptedKey))
                    .col(blob(WitnessKey::PublicKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WitnessedLogs::Table)
                    .if_not_exists()
                    .col(text(WitnessedLogs::Origin).primary_key())
                    .col(big_integer(WitnessedLogs::TreeSize))
                    .col(blob(WitnessedLogs::RootHash))
                    .col(text(WitnessedLogs::Note))
                    .col(timestamp_with_time_zone(WitnessedLogs::CosignedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cosignatures::Table)
                    .if_not_exists()
                    .col(big_integer(Cosignatures::TreeSize))
                    .col(text(Cosignatures::WitnessName))
                    .col(text(Cosignatures::SignatureLine))
                    .col(timestamp_with_time_zone(Cosignatures::CosignedAt))
                    .primary_key(Index::create().col(Cosignatures::TreeSize).col(Cosignatures::WitnessName))
                    .to_owned(),
            )
            .await
    }
}
