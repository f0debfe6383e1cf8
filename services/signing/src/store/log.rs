//! The transparency log's storage: appending a leaf inside the signing act's transaction (indexes
//! taken in turn on the single `log_head` row, so the log has one order across replicas), reading
//! leaves and their hashes, checkpoints, and the log's key.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::entities::{checkpoint, log_head, log_key, log_leaf};
use crate::domain::merkle::{self, Hash};

/// Appends a leaf with `leaf_data` and returns its index. Call it last in the transaction: the head
/// row it updates stays locked until the commit, which serialises appenders (a row lock on
/// PostgreSQL, the write lock on SQLite), so indexes are dense and committed in order.
pub async fn append_leaf(connection: &impl ConnectionTrait, leaf_data: Vec<u8>) -> Result<i64, DbErr> {
    log_head::Entity::update_many()
        .col_expr(log_head::Column::TreeSize, Expr::col(log_head::Column::TreeSize).add(1))
        .filter(log_head::Column::Id.eq(1))
        .exec(connection)
        .await?;
    let size = tree_size(connection).await?;
    let index = size - 1;
    let leaf_hash = merkle::leaf_hash(&leaf_data).to_vec();
    log_leaf::Entity::insert(log_leaf::ActiveModel {
        leaf_index: Set(index),
        leaf_data: Set(leaf_data),
        leaf_hash: Set(leaf_hash),
    })
    .exec_without_returning(connection)
    .await?;
    Ok(index)
}

/// The number of leaves appended and committed (as this connection sees them).
pub async fn tree_size(connection: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let head = log_head::Entity::find_by_id(1)
        .one(connection)
        .await?
        .ok_or_else(|| DbErr::Custom("log_head has no row: signing's migration has not run".to_owned()))?;
    Ok(head.tree_size)
}

/// The leaves with index in `[from, to)`, in order, as (index, bytes).
pub async fn leaves(db: &DatabaseConnection, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>, DbErr> {
    let rows = log_leaf::Entity::find()
        .select_only()
        .column(log_leaf::Column::LeafIndex)
        .column(log_leaf::Column::LeafData)
        .filter(log_leaf::Column::LeafIndex.gte(from))
        .filter(log_leaf::Column::LeafIndex.lt(to))
        .order_by_asc(log_leaf::Column::LeafIndex)
        .into_tuple::<(i64, Vec<u8>)>()
        .all(db)
        .await?;
    Ok(rows)
}

/// The stored leaf hashes with index in `[from, to)`, in order.
pub async fn leaf_hashes(db: &DatabaseConnection, from: i64, to: i64) -> Result<Vec<Hash>, DbErr> {
    let rows = log_leaf::Entity::find()
        .select_only()
        .column(log_leaf::Column::LeafHash)
        .filter(log_leaf::Column::LeafIndex.gte(from))
        .filter(log_leaf::Column::LeafIndex.lt(to))
        .order_by_asc(log_leaf::Column::LeafIndex)
        .into_tuple::<Vec<u8>>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|hash| {
            Hash::try_from(hash.as_slice()).map_err(|_| DbErr::Custom("a stored leaf hash is not 32 bytes".to_owned()))
        })
        .collect()
}

/// The latest checkpoint.
pub async fn latest_checkpoint(db: &DatabaseConnection) -> Result<Option<checkpoint::Model>, DbErr> {
    checkpoint::Entity::find().order_by_desc(checkpoint::Column::TreeSize).one(db).await
}

/// The checkpoint of `tree_size`.
pub async fn checkpoint_of(db: &DatabaseConnection, tree_size: i64) -> Result<Option<checkpoint::Model>, DbErr> {
    checkpoint::Entity::find_by_id(tree_size).one(db).await
}

/// Stores a checkpoint; another replica may have stored the same one first, which is fine: the note
/// of a tree size is the same whoever signs it (Ed25519 signatures are deterministic).
pub async fn store_checkpoint(db: &DatabaseConnection, checkpoint: checkpoint::Model) -> Result<(), DbErr> {
    checkpoint::Entity::insert(checkpoint::ActiveModel::from(checkpoint))
        .on_conflict(OnConflict::column(checkpoint::Column::TreeSize).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The log key's row, creating it from `make` when there is none; the first replica to store one wins.
pub async fn log_key(
    db: &DatabaseConnection,
    make: impl FnOnce() -> Result<log_key::Model, DbErr>,
) -> Result<log_key::Model, DbErr> {
    if let Some(row) = log_key::Entity::find_by_id(1).one(db).await? {
        return Ok(row);
    }
    log_key::Entity::insert(log_key::ActiveModel::from(make()?))
        .on_conflict(OnConflict::column(log_key::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    log_key::Entity::find_by_id(1).one(db).await?.ok_or_else(|| DbErr::Custom("the log key was not stored".to_owned()))
}
