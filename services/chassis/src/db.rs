//! One way to open a service's database, SQLite or PostgreSQL, and to bring its schema up to date.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;
use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use thiserror::Error;

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A database that could not be opened or migrated.
#[derive(Debug, Error)]
pub enum DbError {
    /// The URL names a database kind motcua does not run on.
    #[error("unsupported database URL {0:?}: expected sqlite://... or postgres://...")]
    UnsupportedUrl(String),
    /// The connection failed.
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// What the driver said.
        source: DbErr,
    },
    /// A migration failed.
    #[error("migrating the database failed: {0}")]
    Migrate(DbErr),
    /// The folder of a SQLite file could not be made.
    #[error("cannot create the folder of the SQLite database {path:?}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Opens `url`: SQLite (`sqlite://path?mode=rwc`) in WAL mode with synchronous=FULL and a busy
/// timeout, or PostgreSQL (`postgres://...`). `max_connections` defaults to 1 for SQLite, whose
/// writers serialise anyway, and 16 for PostgreSQL.
pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<DatabaseConnection, DbError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    let backend = if url.starts_with("sqlite:") {
        ensure_sqlite_folder(url)?;
        options.max_connections(max_connections.unwrap_or(1)).map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
        });
        "sqlite"
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        options.max_connections(max_connections.unwrap_or(16));
        "postgres"
    } else {
        return Err(DbError::UnsupportedUrl(url.to_owned()));
    };
    Database::connect(options).await.map_err(|source| DbError::Connect { backend, source })
}

/// Applies every pending migration of `M`; a migration already applied is skipped. With several
/// replicas, run it once (the `migrate` subcommand as a Kubernetes Job) rather than from each replica
/// at start-up: two replicas migrating at the same moment may collide.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbError> {
    M::up(db, None).await.map_err(DbError::Migrate)
}

/// Creates the folder of a SQLite file, so that a fresh checkout's `data/` need not exist.
fn ensure_sqlite_folder(url: &str) -> Result<(), DbError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(folder) if !folder.as_os_str().is_empty() => std::fs::create_dir_all(folder)
            .map_err(|source| DbError::Folder { path: folder.display().to_string(), source }),
        _ => Ok(()),
    }
}

/// `sql` with PostgreSQL's `$1, $2 ...` placeholders, rewritten to `?` for SQLite. Each placeholder
/// must appear once, in ascending order.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Sqlite | DbBackend::MySql => {
            let mut rewritten = String::with_capacity(sql.len());
            let mut characters = sql.chars().peekable();
            while let Some(character) = characters.next() {
                if character == '$' && characters.peek().is_some_and(char::is_ascii_digit) {
                    while characters.peek().is_some_and(char::is_ascii_digit) {
                        characters.next();
                    }
                    rewritten.push('?');
                } else {
                    rewritten.push(character);
                }
            }
            rewritten
        }
        _ => sql.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_question_marks_and_postgres_keeps_numbers() {
        let sql = "UPDATE t SET a = $1 WHERE b = $2 AND c = $10";
        assert_eq!(placeholders(DbBackend::Sqlite, sql), "UPDATE t SET a = ? WHERE b = ? AND c = ?");
        assert_eq!(placeholders(DbBackend::Postgres, sql), sql);
    }
}
