//! The audit trail's hash chain, on SQLite and PostgreSQL: records written by many concurrent
//! transactions (committing out of id order, some rolling back) and chained by two chainers at once
//! get one dense chain that verifies; then, as a database administrator would, the test changes one
//! field of a record in the middle, and later deletes another, past the append-only triggers, and the
//! verifier names exactly that position each time.

use std::time::Duration;

use motcua_chassis::{
    audit::{chain, schema},
    db,
    testing::{TestDatabase, on_every_database},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};

struct TrailOnly;

#[derive(DeriveMigrationName)]
struct CreateTrail;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateTrail {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        schema::create_tables(manager).await?;
        schema::create_chain_tables(manager).await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for TrailOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTrail)]
    }
}

/// Runs `sql` with `$n` placeholders on either backend.
async fn execute(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(backend, db::placeholders(backend, sql), values))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

async fn query_i64(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, db::placeholders(backend, sql), values))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get_by_index(0).expect("an integer")
}

/// Writes one record with `subjects` subjects through `transaction`, as the trail's store does.
async fn write_record(transaction: &impl ConnectionTrait, writer: usize, index: usize) {
    let backend = transaction.get_database_backend();
    let sql = db::placeholders(
        backend,
        "INSERT INTO audit_records \
         (time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    );
    let values: Vec<Value> = vec![
        motcua_chassis::clock::Clock::system().now().into(),
        format!("spiffe://motcua/staff/w{writer}").into(),
        format!("officer-{writer}").into(),
        "/motcua.intake.v1.IntakeService/CreateDossier".into(),
        1_i16.into(),
        format!("{writer}-{index}").into(),
        String::new().into(),
        0_i32.into(),
        String::new().into(),
    ];
    let row = transaction
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("record inserted")
        .expect("its id");
    let id: i64 = row.try_get("", "id").expect("an id");
    for position in 0..(index % 3) {
        execute(
            transaction,
            "INSERT INTO audit_record_subjects (record_id, position, subject) VALUES ($1, $2, $3)",
            vec![id.into(), (position as i32).into(), format!("dossiers/{writer}-{index}-{position}").into()],
        )
        .await;
    }
}

/// What an administrator with the database's own powers runs, past the append-only triggers and the
/// foreign keys: on PostgreSQL as superuser with triggers off for the transaction, on SQLite on a
/// connection of its own with the triggers dropped and foreign keys off.
async fn as_administrator(database: &TestDatabase, statements: &[(&str, Vec<Value>)]) {
    let connection = db::connect(&database.url, Some(1)).await.expect("the administrator connects");
    if connection.get_database_backend() == DbBackend::Postgres {
        let transaction = connection.begin().await.expect("begin");
        transaction.execute_unprepared("SET LOCAL session_replication_role = replica").await.expect("triggers off");
        for (sql, values) in statements {
            execute(&transaction, sql, values.clone()).await;
        }
        transaction.commit().await.expect("commit");
    } else {
        connection.execute_unprepared("PRAGMA foreign_keys = OFF").await.expect("foreign keys off");
        for table in ["audit_records", "audit_record_subjects"] {
            for event in ["update", "delete"] {
                connection
                    .execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_no_{event}"))
                    .await
                    .expect("trigger dropped");
            }
        }
        for (sql, values) in statements {
            execute(&connection, sql, values.clone()).await;
        }
    }
    connection.close().await.expect("closes");
}

async fn record_at(db: &DatabaseConnection, position: i64) -> i64 {
    query_i64(db, "SELECT record_id FROM audit_chain WHERE position = $1", vec![position.into()]).await
}

async fn actor_of(db: &DatabaseConnection, record: i64) -> String {
    let backend = db.get_database_backend();
    let sql = db::placeholders(backend, "SELECT actor_id FROM audit_records WHERE id = $1");
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [record.into()]))
        .await
        .expect("query runs")
        .expect("the record");
    row.try_get("", "actor_id").expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dense_chain_verifies_and_an_edited_or_deleted_record_is_found_at_its_position() {
    on_every_database(|database| async move {
        const WRITERS: usize = 8;
        const RECORDS_PER_WRITER: usize = 40;
        let connections = if database.backend == "sqlite" { 4 } else { 16 };
        let connection = db::connect(&database.url, Some(connections)).await.expect("database opens");
        db::migrate::<TrailOnly>(&connection).await.expect("trail and chain tables");
        // Two replicas' chainers, racing each other and the writers.
        let first = chain::Chainer::start(connection.clone());
        let second = chain::Chainer::start(connection.clone());

        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let (connection, chainer) = (connection.clone(), if writer % 2 == 0 { &first } else { &second });
            chainer.wake();
            writers.push(tokio::spawn(async move {
                let mut committed = 0_i64;
                for index in 0..RECORDS_PER_WRITER {
                    let transaction = connection.begin().await.expect("begin");
                    write_record(&transaction, writer, index).await;
                    // Hold some transactions open so that later ids commit first.
                    if (writer + index) % 5 == 0 {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    if index % 10 == 9 {
                        transaction.rollback().await.expect("rollback");
                    } else {
                        transaction.commit().await.expect("commit");
                        committed += 1;
                    }
                }
                committed
            }));
        }
        let mut committed = 0;
        for writer in writers {
            committed += writer.await.expect("writer finished");
        }
        second.chain_all().await.expect("everything chained");

        let records = query_i64(&connection, "SELECT COUNT(*) FROM audit_records", vec![]).await;
        assert_eq!(records, committed, "{}: every committed record is there", database.backend);
        let (count, lowest, highest) = (
            query_i64(&connection, "SELECT COUNT(*) FROM audit_chain", vec![]).await,
            query_i64(&connection, "SELECT MIN(position) FROM audit_chain", vec![]).await,
            query_i64(&connection, "SELECT MAX(position) FROM audit_chain", vec![]).await,
        );
        assert_eq!((count, lowest, highest), (committed, 1, committed), "{}: dense from 1", database.backend);
        let verified = chain::verify(&connection).await.expect("readable").expect("an untouched chain verifies");
        assert_eq!(verified.count, committed as u64, "{}", database.backend);
        drop((first, second));

        // One field of one record in the middle changes.
        let middle = committed / 2;
        let edited = record_at(&connection, middle).await;
        let original = actor_of(&connection, edited).await;
        let update = "UPDATE audit_records SET actor_id = $1 WHERE id = $2";
        as_administrator(&database, &[(update, vec!["someone-else".into(), edited.into()])]).await;
        let mismatch = chain::verify(&connection).await.expect("readable").expect_err("the edit is found");
        assert_eq!((mismatch.position, mismatch.record_id), (middle, Some(edited)), "{}", database.backend);

        // Put back, it verifies again: the chain covers what the record says, nothing else.
        as_administrator(&database, &[(update, vec![original.into(), edited.into()])]).await;
        chain::verify(&connection).await.expect("readable").expect("restored, the chain verifies");

        // A record (with its subjects) removed: its position is named.
        let later = committed * 3 / 4;
        let removed = record_at(&connection, later).await;
        as_administrator(
            &database,
            &[
                ("DELETE FROM audit_record_subjects WHERE record_id = $1", vec![removed.into()]),
                ("DELETE FROM audit_records WHERE id = $1", vec![removed.into()]),
            ],
        )
        .await;
        let mismatch = chain::verify(&connection).await.expect("readable").expect_err("the removal is found");
        assert_eq!((mismatch.position, mismatch.record_id), (later, Some(removed)), "{}", database.backend);
        assert!(mismatch.to_string().contains("missing"), "{mismatch}");
    })
    .await;
}

#[tokio::test]
async fn the_chain_tables_refuse_changes_like_the_records() {
    on_every_database(|database| async move {
        let connection = db::connect(&database.url, None).await.expect("database opens");
        db::migrate::<TrailOnly>(&connection).await.expect("trail and chain tables");
        let transaction = connection.begin().await.expect("begin");
        write_record(&transaction, 1, 1).await;
        transaction.commit().await.expect("commit");
        let chained = chain::chain_all(&connection).await.expect("chained");
        assert_eq!((chained.count, chained.position), (1, 1), "{}", database.backend);
        for sql in ["UPDATE audit_chain SET position = 2", "DELETE FROM audit_chain", "DELETE FROM audit_chain_head"] {
            let error = connection.execute_unprepared(sql).await.expect_err(sql);
            assert!(error.to_string().contains("append-only"), "{}: {sql}: {error}", database.backend);
        }
        let verified = chain::verify(&connection).await.expect("readable").expect("verifies");
        assert_eq!(verified.count, 1);
        assert_eq!(chain::chain_all(&connection).await.expect("nothing to do").count, 0);
    })
    .await;
}
