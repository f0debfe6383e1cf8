//! The transparency log's storage: appending a leaf inside the signing act's transaction (indexes
//! taken in turn on the single `log_head` row, so the log has one order across replicas), reading
//! leaves, the hash tiles and the integration state the checkpointer keeps, the auditor's progress,
//! checkpoints, and the log's key.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::entities::{checkpoint, log_audit, log_head, log_integration, log_key, log_leaf, log_tile};
use crate::domain::{
    merkle::{self, Hash},
    tiles::{TileKey, TileSet},
};

/// Tiles written per INSERT: 500 rows of three parameters, far below either database's limit.
const TILES_PER_INSERT: usize = 500;

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

/// The leaves with index in `[from, to)`, in order, as (index, bytes): a primary-key range, so
/// reading one tile's 256 costs the same at any log size.
pub async fn leaves(connection: &impl ConnectionTrait, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>, DbErr> {
    let rows = log_leaf::Entity::find()
        .select_only()
        .column(log_leaf::Column::LeafIndex)
        .column(log_leaf::Column::LeafData)
        .filter(log_leaf::Column::LeafIndex.gte(from))
        .filter(log_leaf::Column::LeafIndex.lt(to))
        .order_by_asc(log_leaf::Column::LeafIndex)
        .into_tuple::<(i64, Vec<u8>)>()
        .all(connection)
        .await?;
    Ok(rows)
}

/// How many leaves the stored tiles cover.
pub async fn integrated_size(connection: &impl ConnectionTrait) -> Result<i64, DbErr> {
    integration_row(connection, false).await
}

/// How many leaves the stored tiles cover, locking the state row until the transaction ends, so that
/// one replica integrates at a time (`FOR UPDATE` on PostgreSQL; SQLite's write transaction, begun
/// by `db::begin_write`, already excludes every other writer).
pub async fn integrated_size_for_update(connection: &impl ConnectionTrait) -> Result<i64, DbErr> {
    integration_row(connection, true).await
}

async fn integration_row(connection: &impl ConnectionTrait, lock: bool) -> Result<i64, DbErr> {
    let mut query = log_integration::Entity::find_by_id(1);
    if lock {
        query = query.lock_exclusive();
    }
    let row = query
        .one(connection)
        .await?
        .ok_or_else(|| DbErr::Custom("log_integration has no row: signing's migration has not run".to_owned()))?;
    Ok(row.integrated_size)
}

/// Records that the stored tiles now cover `size` leaves.
pub async fn set_integrated_size(connection: &impl ConnectionTrait, size: i64) -> Result<(), DbErr> {
    log_integration::Entity::update_many()
        .col_expr(log_integration::Column::IntegratedSize, Expr::value(size))
        .filter(log_integration::Column::Id.eq(1))
        .exec(connection)
        .await?;
    Ok(())
}

/// Reads the tiles `keys` (those stored) into `set`, in one query.
pub async fn load_tiles(connection: &impl ConnectionTrait, keys: &[TileKey], set: &mut TileSet) -> Result<(), DbErr> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut by_level: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
    for key in keys {
        by_level.entry(key.level).or_default().push(key.index as i64);
    }
    let mut condition = Condition::any();
    for (level, indexes) in by_level {
        condition = condition.add(
            Condition::all()
                .add(log_tile::Column::Level.eq(i16::from(level)))
                .add(log_tile::Column::TileIndex.is_in(indexes)),
        );
    }
    for row in log_tile::Entity::find().filter(condition).all(connection).await? {
        let key = TileKey { level: row.level as u8, index: row.tile_index as u64 };
        set.insert(key, tile_hashes(key, &row.hashes)?);
    }
    Ok(())
}

fn tile_hashes(key: TileKey, bytes: &[u8]) -> Result<Vec<Hash>, DbErr> {
    if bytes.is_empty() || bytes.len() % 32 != 0 || bytes.len() > 256 * 32 {
        return Err(DbErr::Custom(format!(
            "the stored tile {}/{} holds {} bytes, not 1 to 256 hashes of 32",
            key.level,
            key.index,
            bytes.len()
        )));
    }
    Ok(bytes.chunks_exact(32).map(|hash| hash.try_into().expect("chunks_exact gives 32 bytes")).collect())
}

/// Stores the tiles `keys` of `set`, replacing what was stored under the same keys (only ever a
/// partial tile that grew).
pub async fn save_tiles(connection: &impl ConnectionTrait, set: &TileSet, keys: &[TileKey]) -> Result<(), DbErr> {
    for chunk in keys.chunks(TILES_PER_INSERT) {
        let rows = chunk.iter().filter_map(|key| {
            set.get(*key).map(|hashes| log_tile::ActiveModel {
                level: Set(i16::from(key.level)),
                tile_index: Set(key.index as i64),
                hashes: Set(hashes.concat()),
            })
        });
        log_tile::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([log_tile::Column::Level, log_tile::Column::TileIndex])
                    .update_column(log_tile::Column::Hashes)
                    .to_owned(),
            )
            .exec_without_returning(connection)
            .await?;
    }
    Ok(())
}

/// The auditor's progress.
pub async fn audit_state(connection: &impl ConnectionTrait) -> Result<log_audit::Model, DbErr> {
    log_audit::Entity::find_by_id(1)
        .one(connection)
        .await?
        .ok_or_else(|| DbErr::Custom("log_audit has no row: signing's migration has not run".to_owned()))
}

/// Moves the auditor on from `from` to `next_leaf` with `passes` complete, unless another replica's
/// auditor moved it first (then its progress stands).
pub async fn advance_audit(
    connection: &impl ConnectionTrait,
    from: i64,
    next_leaf: i64,
    passes: i64,
) -> Result<(), DbErr> {
    log_audit::Entity::update_many()
        .col_expr(log_audit::Column::NextLeaf, Expr::value(next_leaf))
        .col_expr(log_audit::Column::Passes, Expr::value(passes))
        .filter(log_audit::Column::Id.eq(1))
        .filter(log_audit::Column::NextLeaf.eq(from))
        .exec(connection)
        .await?;
    Ok(())
}

/// Records the auditor's finding, for every replica and after a restart.
pub async fn record_audit_finding(connection: &impl ConnectionTrait, finding: &str) -> Result<(), DbErr> {
    log_audit::Entity::update_many()
        .col_expr(log_audit::Column::Finding, Expr::value(finding.to_owned()))
        .filter(log_audit::Column::Id.eq(1))
        .exec(connection)
        .await?;
    Ok(())
}

/// The latest checkpoint.
pub async fn latest_checkpoint(connection: &impl ConnectionTrait) -> Result<Option<checkpoint::Model>, DbErr> {
    checkpoint::Entity::find().order_by_desc(checkpoint::Column::TreeSize).one(connection).await
}

/// The checkpoint of `tree_size`.
pub async fn checkpoint_of(db: &DatabaseConnection, tree_size: i64) -> Result<Option<checkpoint::Model>, DbErr> {
    checkpoint::Entity::find_by_id(tree_size).one(db).await
}

/// Stores a checkpoint; one stored already for the same size is kept: the note of a tree size is
/// the same whoever signs it (Ed25519 signatures are deterministic).
pub async fn store_checkpoint(connection: &impl ConnectionTrait, checkpoint: checkpoint::Model) -> Result<(), DbErr> {
    checkpoint::Entity::insert(checkpoint::ActiveModel::from(checkpoint))
        .on_conflict(OnConflict::column(checkpoint::Column::TreeSize).do_nothing().to_owned())
        .exec_without_returning(connection)
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
    log_key::Entity::find_by_id(1).one(db).await?.ok_or_else(|| DbErr::Custom("log_key was not stored".to_owned()))
}
