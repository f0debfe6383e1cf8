//! Dossiers, their history, the per-agency daily counters of dossier codes, the request log of
//! mutations and the event feed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dossiers {
    Table,
    Id,
    DossierCode,
    BranchCode,
    AgencyCode,
    ProcedureCode,
    Status,
    Channel,
    Level,
    ApplicantKeyHash,
    ReceivedDay,
    AppointmentTime,
    IsOpen,
    Revision,
    Body,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum DossierHistory {
    Table,
    Id,
    DossierId,
    Sequence,
    Body,
    Time,
}

#[derive(DeriveIden)]
enum DayCounters {
    Table,
    AgencyCode,
    Day,
    LastNumber,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Dossiers::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Dossiers::Id))
                    .col(string_len_uniq(Dossiers::DossierCode, 80))
                    .col(string_len(Dossiers::BranchCode, 20))
                    .col(string_len(Dossiers::AgencyCode, 40))
                    .col(string_len(Dossiers::ProcedureCode, 40))
                    .col(small_integer(Dossiers::Status))
                    .col(small_integer(Dossiers::Channel))
                    .col(small_integer(Dossiers::Level))
                    .col(string_len(Dossiers::ApplicantKeyHash, 64))
                    .col(string_len_null(Dossiers::ReceivedDay, 10))
                    .col(timestamp_with_time_zone_null(Dossiers::AppointmentTime))
                    .col(boolean(Dossiers::IsOpen))
                    .col(integer(Dossiers::Revision))
                    .col(text(Dossiers::Body))
                    .col(timestamp_with_time_zone(Dossiers::CreateTime))
                    .col(timestamp_with_time_zone(Dossiers::UpdateTime))
                    .to_owned(),
            )
            .await?;
        // Every listing filter walks its index in id order (keyset paging, newest first).
        for (name, column) in [
            ("dossiers_branch", Dossiers::BranchCode),
            ("dossiers_procedure", Dossiers::ProcedureCode),
            ("dossiers_status", Dossiers::Status),
            ("dossiers_applicant", Dossiers::ApplicantKeyHash),
            ("dossiers_received_day", Dossiers::ReceivedDay),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Dossiers::Table)
                        .col(column)
                        .col(Dossiers::Id)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("dossiers_open_appointment")
                    .table(Dossiers::Table)
                    .col(Dossiers::IsOpen)
                    .col(Dossiers::AppointmentTime)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DossierHistory::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DossierHistory::Id))
                    .col(big_integer(DossierHistory::DossierId))
                    .col(integer(DossierHistory::Sequence))
                    .col(text(DossierHistory::Body))
                    .col(timestamp_with_time_zone(DossierHistory::Time))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("dossier_history_dossier_sequence")
                    .table(DossierHistory::Table)
                    .col(DossierHistory::DossierId)
                    .col(DossierHistory::Sequence)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DayCounters::Table)
                    .if_not_exists()
                    .col(string_len(DayCounters::AgencyCode, 40))
                    .col(string_len(DayCounters::Day, 10))
                    .col(big_integer(DayCounters::LastNumber))
                    .primary_key(Index::create().col(DayCounters::AgencyCode).col(DayCounters::Day))
                    .to_owned(),
            )
            .await?;
        motcua_chassis::idempotency::create_table(manager).await?;
        motcua_chassis::feed::schema::create_tables(manager).await
    }
}
