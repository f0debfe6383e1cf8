//! One `db::connect` for both backends: SQLite opens every pooled connection in WAL mode with
//! synchronous=FULL and a busy timeout; PostgreSQL opens too; migrations apply once and are skipped
//! when run again; any other URL is refused by name.

use motcua_chassis::{
    db::{self, DbError},
    testing::{TestDatabase, on_every_database},
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};

async fn pragma_text(connection: &DatabaseTransaction, pragma: &str) -> String {
    let row = connection
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {pragma}")))
        .await
        .unwrap_or_else(|error| panic!("PRAGMA {pragma}: {error}"))
        .unwrap_or_else(|| panic!("PRAGMA {pragma} answers a row"));
    row.try_get_by_index(0).unwrap_or_else(|error| panic!("PRAGMA {pragma} is text: {error}"))
}

async fn pragma_number(connection: &DatabaseTransaction, pragma: &str) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {pragma}")))
        .await
        .unwrap_or_else(|error| panic!("PRAGMA {pragma}: {error}"))
        .unwrap_or_else(|| panic!("PRAGMA {pragma} answers a row"));
    row.try_get_by_index(0).unwrap_or_else(|error| panic!("PRAGMA {pragma} is a number: {error}"))
}

#[tokio::test]
async fn every_sqlite_connection_is_in_wal_mode_with_full_synchronous_writes_and_a_busy_timeout() {
    const CONNECTIONS: u32 = 3;
    let database = TestDatabase::sqlite();
    let connection = db::connect(&database.url, Some(CONNECTIONS)).await.expect("SQLite opens");
    // A transaction holds a connection of its own: holding all of them at once inspects each one, not
    // only the first the pool happens to hand out.
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        held.push(connection.begin().await.expect("a pooled connection"));
    }
    for (index, transaction) in held.iter().enumerate() {
        assert_eq!(pragma_text(transaction, "journal_mode").await, "wal", "connection {index}");
        // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        assert_eq!(pragma_number(transaction, "synchronous").await, 2, "connection {index} is FULL");
        let busy_timeout_ms = pragma_number(transaction, "busy_timeout").await;
        assert!(
            busy_timeout_ms >= 1_000,
            "connection {index} waits for a writer, not fails at once: {busy_timeout_ms} ms"
        );
        assert_eq!(pragma_number(transaction, "foreign_keys").await, 1, "connection {index} enforces foreign keys");
    }
    for transaction in held {
        transaction.rollback().await.expect("rolls back");
    }
}

#[tokio::test]
async fn the_folder_of_a_sqlite_file_is_made_when_missing() {
    let database = TestDatabase::sqlite();
    let path = database.url.trim_start_matches("sqlite://").split('?').next().expect("a path").to_owned();
    let folder = std::path::Path::new(&path).parent().expect("a folder").to_owned();
    assert!(!folder.exists(), "a fresh test database has no folder yet");
    let _connection = db::connect(&database.url, None).await.expect("SQLite opens");
    assert!(std::path::Path::new(&path).is_file(), "{path} was created");
}

#[tokio::test]
async fn a_database_url_of_another_kind_is_refused_by_name() {
    let error = db::connect("mysql://root@127.0.0.1/motcua", None).await.expect_err("MySQL is not supported");
    assert!(matches!(error, DbError::UnsupportedUrl(ref url) if url == "mysql://root@127.0.0.1/motcua"), "{error}");
}

struct OneTable;

#[derive(DeriveMigrationName)]
struct CreateWidgets;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateWidgets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("widgets")
                    .col(ColumnDef::new("id").big_integer().not_null().primary_key())
                    .col(ColumnDef::new("name").string().not_null())
                    .to_owned(),
            )
            .await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for OneTable {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateWidgets)]
    }
}

#[tokio::test]
async fn migrations_apply_once_on_both_backends_and_are_skipped_when_run_again() {
    on_every_database(|database| async move {
        let connection = db::connect(&database.url, None).await.expect("opens");
        let backend = connection.get_database_backend();
        db::migrate::<OneTable>(&connection).await.expect("first run applies the migration");
        // A `migrate` Job run again after a deploy, or a replica migrating at start-up after it.
        db::migrate::<OneTable>(&connection).await.expect("second run skips what is applied");
        let applied = OneTable::get_applied_migrations(&connection).await.expect("migration table");
        assert_eq!(applied.len(), 1, "{}: applied once", database.backend);
        connection
            .execute_raw(Statement::from_string(backend, "INSERT INTO widgets (id, name) VALUES (1, 'first')"))
            .await
            .unwrap_or_else(|error| panic!("{}: the migrated table takes rows: {error}", database.backend));
    })
    .await;
}
