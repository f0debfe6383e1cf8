//! The trail's two tables, created by each service's own migration, and the triggers that make the
//! database itself refuse to change or remove a record.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Id,
    Time,
    Identity,
    ActorId,
    Rpc,
    Action,
    RequestId,
    TraceId,
    StatusCode,
    ErrorReason,
}

#[derive(DeriveIden)]
enum AuditRecordSubjects {
    Table,
    RecordId,
    Position,
    Subject,
}

/// Creates `audit_records` (the sequence is its autoincrement id), `audit_record_subjects` (one row
/// per resource a record names) and the append-only triggers. Call it from the service's migration
/// that introduces its trail.
pub async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(AuditRecords::Table)
                .if_not_exists()
                .col(big_pk_auto(AuditRecords::Id))
                .col(timestamp_with_time_zone(AuditRecords::Time))
                .col(string_len(AuditRecords::Identity, 150))
                .col(string_len(AuditRecords::ActorId, 100))
                .col(string_len(AuditRecords::Rpc, 200))
                .col(small_integer(AuditRecords::Action))
                .col(string_len(AuditRecords::RequestId, 100))
                .col(string_len(AuditRecords::TraceId, 32))
                .col(integer(AuditRecords::StatusCode))
                .col(string_len(AuditRecords::ErrorReason, 100))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(AuditRecordSubjects::Table)
                .if_not_exists()
                .col(big_integer(AuditRecordSubjects::RecordId))
                .col(integer(AuditRecordSubjects::Position))
                .col(string_len(AuditRecordSubjects::Subject, 200))
                .primary_key(Index::create().col(AuditRecordSubjects::RecordId).col(AuditRecordSubjects::Position))
                .foreign_key(
                    ForeignKey::create()
                        .from(AuditRecordSubjects::Table, AuditRecordSubjects::RecordId)
                        .to(AuditRecords::Table, AuditRecords::Id),
                )
                .to_owned(),
        )
        .await?;
    // Time ranges, and the filters an auditor starts from: a resource, a request, a trace.
    for (name, table, columns) in [
        ("audit_records_time", AuditRecords::Table, vec![AuditRecords::Time, AuditRecords::Id]),
        ("audit_records_request", AuditRecords::Table, vec![AuditRecords::RequestId]),
        ("audit_records_trace", AuditRecords::Table, vec![AuditRecords::TraceId]),
    ] {
        let mut index = Index::create();
        index.name(name).table(table).if_not_exists();
        for column in columns {
            index.col(column);
        }
        manager.create_index(index.to_owned()).await?;
    }
    manager
        .create_index(
            Index::create()
                .name("audit_record_subjects_subject")
                .table(AuditRecordSubjects::Table)
                .col(AuditRecordSubjects::Subject)
                .col(AuditRecordSubjects::RecordId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
    create_append_only_triggers(manager.get_connection()).await
}

/// Triggers that abort any UPDATE or DELETE of either table: no code path of the service has one, and
/// a mistaken statement from a console fails too. Against an administrator who drops the triggers
/// they are no defence; the trail's copies elsewhere are.
async fn create_append_only_triggers(connection: &impl ConnectionTrait) -> Result<(), DbErr> {
    let tables = ["audit_records", "audit_record_subjects"];
    match connection.get_database_backend() {
        DbBackend::Postgres => {
            connection
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$",
                )
                .await?;
            for table in tables {
                connection
                    .execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                         FOR EACH ROW EXECUTE FUNCTION audit_trail_is_append_only()"
                    ))
                    .await?;
                connection
                    .execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_is_append_only()"
                    ))
                    .await?;
            }
        }
        _ => {
            for table in tables {
                for event in ["UPDATE", "DELETE"] {
                    let lower = event.to_ascii_lowercase();
                    connection
                        .execute_unprepared(&format!(
                            "CREATE TRIGGER IF NOT EXISTS {table}_no_{lower} BEFORE {event} ON {table} \
                             BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
                        ))
                        .await?;
                }
            }
        }
    }
    Ok(())
}
