//! The transparency log kept as C2SP tlog-tiles: hash tiles (`log_tiles`), how many leaves they cover
//! (`log_integration`) and the background auditor's progress (`log_audit`). A log that already has
//! leaves starts at zero integrated: the checkpointer's first passes build its tiles from the stored
//! leaves in bounded batches through the integration path (and check them against the last signed
//! checkpoint), so the migration itself stays short whatever the log's size. Entry bundles are not
//! stored: they are the `log_leaves` rows of one tile's index range, at most 256 read by primary key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LogTiles {
    Table,
    Level,
    TileIndex,
    Hashes,
}

#[derive(DeriveIden)]
enum LogIntegration {
    Table,
    Id,
    IntegratedSize,
}

#[derive(DeriveIden)]
enum LogAudit {
    Table,
    Id,
    NextLeaf,
    Passes,
    Finding,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LogTiles::Table)
                    .if_not_exists()
                    .col(small_integer(LogTiles::Level))
                    .col(big_integer(LogTiles::TileIndex))
                    .col(blob(LogTiles::Hashes))
                    .primary_key(Index::create().col(LogTiles::Level).col(LogTiles::TileIndex))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogIntegration::Table)
                    .if_not_exists()
                    .col(integer(LogIntegration::Id).primary_key())
                    .col(big_integer(LogIntegration::IntegratedSize))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogAudit::Table)
                    .if_not_exists()
                    .col(integer(LogAudit::Id).primary_key())
                    .col(big_integer(LogAudit::NextLeaf))
                    .col(big_integer(LogAudit::Passes))
                    .col(text_null(LogAudit::Finding))
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        connection.execute_unprepared("INSERT INTO log_integration (id, integrated_size) VALUES (1, 0)").await?;
        connection.execute_unprepared("INSERT INTO log_audit (id, next_leaf, passes) VALUES (1, 0, 0)").await?;
        Ok(())
    }
}
