//! One way to open a service's database, SQLite or PostgreSQL, and to bring its schema up to date;
//! its statements traced with the database's name, and its URL never shown with its password.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use thiserror::Error;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A database that could not be opened or migrated.
#[derive(Debug, Error)]
pub enum DbError {
    /// The URL (as [`redacted_url`] shows it) names a database kind motcua does not run on.
    #[error("unsupported database URL {0:?}: expected sqlite://... or postgres://...")]
    UnsupportedUrl(String),
    /// The connection failed.
    #[error("cannot connect to the {backend} database {url}: {reason}")]
    Connect {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The URL, as [`redacted_url`] shows it.
        url: String,
        /// What the driver said, with the URL's secrets removed (a URL it cannot parse is quoted whole).
        reason: String,
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
        return Err(DbError::UnsupportedUrl(redacted_url(url)));
    };
    let mut connection = Database::connect(options).await.map_err(|source| DbError::Connect {
        backend,
        url: redacted_url(url),
        reason: without_secrets(&source.to_string(), url),
    })?;
    let namespace = database_name(url);
    // sea-orm's statement spans carry db.system, db.operation and the parameterised statement, but not
    // which database; the callback runs inside the statement's span, once per statement.
    connection.set_metric_callback(move |_| {
        let span = tracing::Span::current();
        if span.metadata().is_some_and(|metadata| metadata.name().starts_with("sea_orm.")) {
            span.set_attribute("db.namespace", namespace.clone());
        }
    });
    Ok(connection)
}

/// `url` with its password and query parameters (where PostgreSQL takes `password=`, `sslpassword=`
/// and key files) replaced by `***`: what an error message or a log line may show.
pub fn redacted_url(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let mut redacted = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_owned(),
            },
            None => base.to_owned(),
        },
        None => base.to_owned(),
    };
    if query.is_some() {
        redacted.push_str("?***");
    }
    redacted
}

/// `text` with `url` and its password removed, for a driver's message that may quote either.
fn without_secrets(text: &str, url: &str) -> String {
    let mut cleaned = text.replace(url, &redacted_url(url));
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty());
    if let Some(password) = password {
        cleaned = cleaned.replace(password, "***");
    }
    cleaned
}

/// The database's name for `db.namespace`: PostgreSQL's database, or a SQLite file's stem.
fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    let path = base.split_once("://").map_or(base, |(_, rest)| rest);
    let last = path.rsplit('/').next().unwrap_or_default();
    last.rsplit_once('.').map_or(last, |(stem, _)| stem).to_owned()
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), waiting out the busy timeout for another writer: a deferred transaction that reads
/// and then writes cannot take the lock after a concurrent commit, and fails at once with "database is
/// locked" instead of waiting. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
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
    fn a_redacted_url_keeps_user_host_and_database_but_not_password_or_parameters() {
        assert_eq!(
            redacted_url("postgres://motcua:s3cret@db:5432/intake?sslmode=require&sslpassword=x"),
            "postgres://motcua:***@db:5432/intake?***"
        );
        assert_eq!(
            redacted_url("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(redacted_url("mysql://root@127.0.0.1/motcua"), "mysql://root@127.0.0.1/motcua");
        let message = "The connection string 'postgres://u:p%40ss@h/db' cannot be parsed; p%40ss";
        assert_eq!(
            without_secrets(message, "postgres://u:p%40ss@h/db"),
            "The connection string 'postgres://u:***@h/db' cannot be parsed; ***"
        );
    }

    #[test]
    fn the_namespace_is_the_postgres_database_or_the_sqlite_file() {
        assert_eq!(database_name("postgres://u:p@h:5432/motcua_intake?sslmode=disable"), "motcua_intake");
        assert_eq!(database_name("sqlite://data/intake.db?mode=rwc"), "intake");
    }

    #[test]
    fn sqlite_gets_question_marks_and_postgres_keeps_numbers() {
        let sql = "UPDATE t SET a = $1 WHERE b = $2 AND c = $10";
        assert_eq!(placeholders(DbBackend::Sqlite, sql), "UPDATE t SET a = ? WHERE b = ? AND c = ?");
        assert_eq!(placeholders(DbBackend::Postgres, sql), sql);
    }
}
