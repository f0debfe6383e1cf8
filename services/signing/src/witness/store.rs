//! The witness's queries: its key, the latest checkpoint it cosigned of each log (advanced with a
//! compare on the old state, so that replicas agree), and, on the log's side, the cosignatures
//! collected and the latest checkpoint with enough of them.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, OnConflict},
};

use crate::store::entities::{checkpoint, cosignature, witness_key, witnessed_log};

/// The witness key's row, creating it from `make` when there is none; the first replica to store one
/// wins.
pub async fn witness_key(
    db: &DatabaseConnection,
    make: impl FnOnce() -> Result<witness_key::Model, DbErr>,
) -> Result<witness_key::Model, DbErr> {
    if let Some(row) = witness_key::Entity::find_by_id(1).one(db).await? {
        return Ok(row);
    }
    witness_key::Entity::insert(witness_key::ActiveModel::from(make()?))
        .on_conflict(OnConflict::column(witness_key::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    witness_key::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("the witness key was not stored".to_owned()))
}

/// The latest checkpoint cosigned of the log `origin`, if any.
pub async fn witnessed_log(
    connection: &impl ConnectionTrait,
    origin: &str,
) -> Result<Option<witnessed_log::Model>, DbErr> {
    witnessed_log::Entity::find_by_id(origin.to_owned()).one(connection).await
}

/// The latest checkpoint cosigned of every log.
pub async fn witnessed_logs(db: &DatabaseConnection) -> Result<Vec<witnessed_log::Model>, DbErr> {
    witnessed_log::Entity::find().all(db).await
}

/// Records `next` as the latest checkpoint cosigned of its log, provided the stored one is still
/// `previous` (none: no row yet). `false` when another call changed it first.
pub async fn advance(
    connection: &impl ConnectionTrait,
    previous: Option<&witnessed_log::Model>,
    next: witnessed_log::Model,
) -> Result<bool, DbErr> {
    let changed = match previous {
        None => {
            witnessed_log::Entity::insert(witnessed_log::ActiveModel::from(next))
                .on_conflict(OnConflict::column(witnessed_log::Column::Origin).do_nothing().to_owned())
                .exec_without_returning(connection)
                .await?
        }
        Some(previous) => {
            witnessed_log::Entity::update_many()
                .col_expr(witnessed_log::Column::TreeSize, Expr::value(next.tree_size))
                .col_expr(witnessed_log::Column::RootHash, Expr::value(next.root_hash))
                .col_expr(witnessed_log::Column::Note, Expr::value(next.note))
                .col_expr(witnessed_log::Column::CosignedAt, Expr::value(next.cosigned_at))
                .filter(witnessed_log::Column::Origin.eq(previous.origin.clone()))
                .filter(witnessed_log::Column::TreeSize.eq(previous.tree_size))
                .filter(witnessed_log::Column::RootHash.eq(previous.root_hash.clone()))
                .exec(connection)
                .await?
                .rows_affected
        }
    };
    Ok(changed == 1)
}

/// The largest tree size `witness_name` cosigned of this log, if any.
pub async fn cosigned_size(db: &DatabaseConnection, witness_name: &str) -> Result<Option<i64>, DbErr> {
    cosignature::Entity::find()
        .select_only()
        .column(cosignature::Column::TreeSize)
        .filter(cosignature::Column::WitnessName.eq(witness_name))
        .order_by_desc(cosignature::Column::TreeSize)
        .into_tuple()
        .one(db)
        .await
}

/// Stores a verified cosignature; a second one of the same witness and size is ignored.
pub async fn store_cosignature(db: &DatabaseConnection, row: cosignature::Model) -> Result<(), DbErr> {
    cosignature::Entity::insert(cosignature::ActiveModel {
        tree_size: Set(row.tree_size),
        witness_name: Set(row.witness_name),
        signature_line: Set(row.signature_line),
        cosigned_at: Set(row.cosigned_at),
    })
    .on_conflict(
        OnConflict::columns([cosignature::Column::TreeSize, cosignature::Column::WitnessName]).do_nothing().to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The latest checkpoint.
pub async fn latest_checkpoint(db: &DatabaseConnection) -> Result<Option<checkpoint::Model>, DbErr> {
    checkpoint::Entity::find().order_by_desc(checkpoint::Column::TreeSize).one(db).await
}

/// The latest checkpoint with at least `quorum` cosignatures of the witnesses `names`, with them; with
/// a quorum of 0, the latest checkpoint with those it has.
pub async fn cosigned_checkpoint(
    db: &DatabaseConnection,
    names: &[String],
    quorum: usize,
) -> Result<Option<(checkpoint::Model, Vec<cosignature::Model>)>, DbErr> {
    let checkpoint = if quorum == 0 {
        latest_checkpoint(db).await?
    } else {
        let size: Option<i64> = cosignature::Entity::find()
            .select_only()
            .column(cosignature::Column::TreeSize)
            .filter(cosignature::Column::WitnessName.is_in(names.iter().cloned()))
            .group_by(cosignature::Column::TreeSize)
            .having(Expr::expr(Func::count(Expr::col(cosignature::Column::WitnessName))).gte(quorum as i64))
            .order_by_desc(cosignature::Column::TreeSize)
            .into_tuple()
            .one(db)
            .await?;
        match size {
            Some(size) => checkpoint::Entity::find_by_id(size).one(db).await?,
            None => None,
        }
    };
    let Some(checkpoint) = checkpoint else { return Ok(None) };
    let cosignatures = cosignature::Entity::find()
        .filter(cosignature::Column::TreeSize.eq(checkpoint.tree_size))
        .filter(cosignature::Column::WitnessName.is_in(names.iter().cloned()))
        .order_by_asc(cosignature::Column::WitnessName)
        .all(db)
        .await?;
    Ok(Some((checkpoint, cosignatures)))
}
