//! Appending a batch of leaves at once: the log's head taken once for all of them (`tree_size + k`
//! on the single `log_head` row), and their rows written in one statement. The head's row stays
//! locked until the batch's transaction ends (a row lock on PostgreSQL, the write lock on SQLite),
//! so batches of every replica are numbered one after the other, densely, in commit order.

use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, Statement, Value};

use super::entities::log_leaf;
use crate::domain::merkle;

/// Takes `count` indexes at the log's head and returns the first. Call it first in the batch's
/// transaction: what it reads after (revocations) then sees every act committed before it.
pub async fn take_indexes(connection: &impl ConnectionTrait, count: i64) -> Result<i64, DbErr> {
    // Its own statement text with a BIGINT parameter: drivers cache prepared statements by text, and
    // `log::append_leaf`'s update of the same row binds another integer type.
    let backend = connection.get_database_backend();
    let head = connection
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            motcua_chassis::db::placeholders(
                backend,
                "UPDATE log_head SET tree_size = tree_size + CAST($1 AS BIGINT) WHERE id = 1 RETURNING tree_size",
            ),
            [Value::from(count)],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("log_head has no row: signing's migration has not run".to_owned()))?;
    let tree_size: i64 = head.try_get_by_index(0)?;
    Ok(tree_size - count)
}

/// Writes the leaves `leaves`, numbered from `first`, in one statement.
pub async fn insert_leaves(connection: &impl ConnectionTrait, first: i64, leaves: Vec<Vec<u8>>) -> Result<(), DbErr> {
    if leaves.is_empty() {
        return Ok(());
    }
    let rows = leaves.into_iter().enumerate().map(|(offset, leaf_data)| log_leaf::ActiveModel {
        leaf_index: Set(first + offset as i64),
        leaf_hash: Set(merkle::leaf_hash(&leaf_data).to_vec()),
        leaf_data: Set(leaf_data),
    });
    log_leaf::Entity::insert_many(rows).exec_without_returning(connection).await?;
    Ok(())
}
