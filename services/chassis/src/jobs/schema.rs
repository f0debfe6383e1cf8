//! The `jobs` table, created by each service's own migration, so that every service answers
//! `ListJobs` from its own database whether or not it has background work.

use sea_orm::DbErr;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Subject,
    Payload,
    RequestId,
    Traceparent,
    State,
    Attempts,
    RunAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}

/// Creates `jobs`: one row per job, its lease (`lease_owner`, `lease_until`) and its schedule
/// (`run_at`). Call it from the service's migration that introduces its jobs.
pub async fn create_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Jobs::Table)
                .if_not_exists()
                .col(big_pk_auto(Jobs::Id))
                .col(string_len(Jobs::Kind, 64))
                .col(string_len(Jobs::Subject, 200))
                .col(blob(Jobs::Payload))
                .col(string_len(Jobs::RequestId, 200))
                .col(string_len(Jobs::Traceparent, 64))
                .col(small_integer(Jobs::State))
                .col(integer(Jobs::Attempts))
                .col(timestamp_with_time_zone(Jobs::RunAt))
                .col(string_len(Jobs::LeaseOwner, 36))
                .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                .col(text(Jobs::LastError))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                .to_owned(),
        )
        .await?;
    // The runner looks for due jobs by state and time; a follow-up is looked up by its subject.
    for (name, columns) in [("jobs_due", vec![Jobs::State, Jobs::RunAt]), ("jobs_subject", vec![Jobs::Subject])] {
        let mut index = Index::create();
        index.name(name).table(Jobs::Table).if_not_exists();
        for column in columns {
            index.col(column);
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}
