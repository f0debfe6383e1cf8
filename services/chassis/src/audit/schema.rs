//! The trail's tables (its records and their subjects, and the hash chain over them), created by each
//! service's own migrations, and the triggers that make the database itself refuse to change or remove
//! a record.

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
    create_append_only_triggers(manager.get_connection(), &["audit_records", "audit_record_subjects"]).await
}

/// Triggers that abort any UPDATE or DELETE of either table: no code path of the service has one, and
/// a mistaken statement from a console fails too. Against an administrator who drops the triggers
/// they are no defence; the trail's copies elsewhere are.
async fn create_append_only_triggers(connection: &impl ConnectionTrait, tables: &[&str]) -> Result<(), DbErr> {
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

#[derive(DeriveIden)]
enum AuditChain {
    Table,
    RecordId,
    Position,
    ChainHash,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    Id,
    Position,
    ChainHash,
    UpdatedAt,
}

/// Creates `audit_chain` (each chained record's position, dense from 1, and the chain's hash up to and
/// including it; see [`super::chain`]) and `audit_chain_head` (its one row: the last position and hash,
/// at genesis 0 and 32 zero bytes), with triggers that refuse to change or remove a chain row or the
/// head row. Call it from the service's migration that introduces the chain, after [`create_tables`].
pub async fn create_chain_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(AuditChain::Table)
                .if_not_exists()
                .col(big_integer(AuditChain::RecordId).primary_key())
                .col(big_integer(AuditChain::Position).unique_key())
                .col(blob(AuditChain::ChainHash))
                .foreign_key(
                    ForeignKey::create()
                        .from(AuditChain::Table, AuditChain::RecordId)
                        .to(AuditRecords::Table, AuditRecords::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(AuditChainHead::Table)
                .if_not_exists()
                .col(integer(AuditChainHead::Id).primary_key())
                .col(big_integer(AuditChainHead::Position))
                .col(blob(AuditChainHead::ChainHash))
                .col(timestamp_with_time_zone(AuditChainHead::UpdatedAt))
                .to_owned(),
        )
        .await?;
    let connection = manager.get_connection();
    let genesis = match connection.get_database_backend() {
        DbBackend::Postgres => "decode(repeat('00', 32), 'hex')",
        _ => "zeroblob(32)",
    };
    connection
        .execute_unprepared(&format!(
            "INSERT INTO audit_chain_head (id, position, chain_hash, updated_at) \
             VALUES (1, 0, {genesis}, CURRENT_TIMESTAMP)"
        ))
        .await?;
    create_append_only_triggers(connection, &["audit_chain"]).await?;
    // The head moves forward (the chainer updates it) but is never removed.
    match connection.get_database_backend() {
        DbBackend::Postgres => {
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head \
                     FOR EACH ROW EXECUTE FUNCTION audit_trail_is_append_only()",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head \
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_is_append_only()",
                )
                .await?;
        }
        _ => {
            connection
                .execute_unprepared(
                    "CREATE TRIGGER IF NOT EXISTS audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head \
                     BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
                )
                .await?;
        }
    }
    Ok(())
}
