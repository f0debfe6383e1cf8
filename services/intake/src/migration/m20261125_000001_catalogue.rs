//! The procedure catalogue (versioned) and the branches.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Procedures {
    Table,
    Id,
    ProcedureCode,
    Version,
    IsCurrent,
    NationalCode,
    DisplayName,
    Level,
    Sector,
    SectorKey,
    SearchText,
    TimeLimitValue,
    TimeLimitUnit,
    #[sea_orm(iden = "after_15h_next_working_day")]
    After15hNextWorkingDay,
    FeeStatus,
    FeeItems,
    FeeNote,
    Components,
    Source,
    CreatedAt,
    SupersededAt,
}

#[derive(DeriveIden)]
enum Branches {
    Table,
    BranchCode,
    DisplayName,
    AgencyCode,
    ServiceArea,
    Address,
    Source,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Procedures::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Procedures::Id))
                    .col(string_len(Procedures::ProcedureCode, 40))
                    .col(integer(Procedures::Version))
                    .col(boolean(Procedures::IsCurrent))
                    .col(string_len_null(Procedures::NationalCode, 40))
                    .col(text(Procedures::DisplayName))
                    .col(small_integer(Procedures::Level))
                    .col(text(Procedures::Sector))
                    .col(text(Procedures::SectorKey))
                    .col(text(Procedures::SearchText))
                    .col(integer_null(Procedures::TimeLimitValue))
                    .col(small_integer_null(Procedures::TimeLimitUnit))
                    .col(boolean(Procedures::After15hNextWorkingDay))
                    .col(small_integer(Procedures::FeeStatus))
                    .col(text(Procedures::FeeItems))
                    .col(text(Procedures::FeeNote))
                    .col(text(Procedures::Components))
                    .col(text(Procedures::Source))
                    .col(timestamp_with_time_zone(Procedures::CreatedAt))
                    .col(timestamp_with_time_zone_null(Procedures::SupersededAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("procedures_code_version")
                    .table(Procedures::Table)
                    .col(Procedures::ProcedureCode)
                    .col(Procedures::Version)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // The listing walks current versions in code order (keyset paging).
        manager
            .create_index(
                Index::create()
                    .name("procedures_current_code")
                    .table(Procedures::Table)
                    .col(Procedures::IsCurrent)
                    .col(Procedures::ProcedureCode)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Branches::Table)
                    .if_not_exists()
                    .col(string_len(Branches::BranchCode, 20).primary_key())
                    .col(text(Branches::DisplayName))
                    .col(string_len(Branches::AgencyCode, 40))
                    .col(text(Branches::ServiceArea))
                    .col(text(Branches::Address))
                    .col(text(Branches::Source))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Branches::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Procedures::Table).to_owned()).await
    }
}
