//! Reporting's database: the rollups and its record of each dossier (`rollups`), the feed cursors and
//! follower leases (`cursors`), and the rebuilds (`rebuilds`). Transactions live here.

pub mod cursors;
pub mod rebuilds;
pub mod rollups;

use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};

/// The tables a projection writes: the live ones queries read, or the shadow ones a rebuild fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    pub rollups: &'static str,
    pub tracked: &'static str,
}

/// What queries read and followers keep current.
pub const LIVE: Tables = Tables { rollups: "rollups", tracked: "tracked_dossiers" };
/// What a rebuild fills before it swaps them in.
pub const SHADOW: Tables = Tables { rollups: "rebuild_rollups", tracked: "rebuild_tracked_dossiers" };

/// Runs `sql` (PostgreSQL placeholders) with `values`; returns the rows affected.
async fn execute(connection: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let backend = connection.get_database_backend();
    let statement = Statement::from_sql_and_values(backend, motcua_chassis::db::placeholders(backend, sql), values);
    Ok(connection.execute_raw(statement).await?.rows_affected())
}

/// Runs the query `sql` (PostgreSQL placeholders) with `values`.
async fn query(connection: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    let backend = connection.get_database_backend();
    let statement = Statement::from_sql_and_values(backend, motcua_chassis::db::placeholders(backend, sql), values);
    connection.query_all_raw(statement).await
}
