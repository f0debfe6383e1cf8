//! The applicants' data stores: adding a document (with its request log and event), or storing one in
//! the transaction of the move that produced it (a dossier's result), reading one, listing an owner's
//! documents, and counting reuse when a dossier cites one.

use motcua_chassis::{
    ApiError,
    feed::{self, NewEvent},
    idempotency::{self, Claim, RequestKey},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::ExprTrait,
};

use super::{dossiers::Outcome, entities::document};
use crate::domain::document::StoredDocument;

/// A stored document with its bytes and reuse count.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    /// The row id: the keyset position in listings.
    pub id: i64,
    /// The metadata.
    pub document: StoredDocument,
    /// The bytes.
    pub content: Vec<u8>,
    /// How many dossiers cited it.
    pub reuse_count: i32,
}

/// A document to store inside another change's transaction: a dossier's result, stored with the move
/// that records its signature, so that a move that fails leaves no document behind.
pub struct NewDocument {
    /// The owner's keyed hash.
    pub owner_key_hash: String,
    /// The metadata.
    pub document: StoredDocument,
    /// The bytes.
    pub content: Vec<u8>,
    /// Its `document_added` event.
    pub event: NewEvent,
}

/// Stores `new` and appends its event, in the caller's transaction.
pub async fn insert(connection: &impl ConnectionTrait, new: NewDocument) -> Result<(), ApiError> {
    let NewDocument { owner_key_hash, document, content, event } = new;
    document::Entity::insert(document::ActiveModel {
        id: NotSet,
        document_id: Set(document.document_id.clone()),
        owner_key_hash: Set(owner_key_hash),
        document_type: Set(document.document_type.clone()),
        reuse_count: Set(0),
        body: Set(serde_json::to_string(&document).map_err(ApiError::internal)?),
        content: Set(content),
        create_time: Set(document.create_time),
    })
    .exec(connection)
    .await?;
    feed::append(connection, event).await?;
    Ok(())
}

/// Adds `document` with `content` to the store of the owner whose keyed hash is `owner_key_hash`.
pub async fn add(
    db: &DatabaseConnection,
    key: &RequestKey,
    owner_key_hash: &str,
    document: &StoredDocument,
    content: Vec<u8>,
    response: Vec<u8>,
    event: NewEvent,
) -> Result<Outcome<()>, ApiError> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    if let Claim::Replay(response) = idempotency::claim(&transaction, key).await? {
        return Ok(Outcome::Replayed(response));
    }
    let new = NewDocument { owner_key_hash: owner_key_hash.to_owned(), document: document.clone(), content, event };
    insert(&transaction, new).await?;
    idempotency::complete(&transaction, key, &response).await?;
    transaction.commit().await?;
    Ok(Outcome::Done(()))
}

/// The document `document_id`, if it exists.
pub async fn find(db: &impl ConnectionTrait, document_id: &str) -> Result<Option<DocumentRecord>, ApiError> {
    document::Entity::find().filter(document::Column::DocumentId.eq(document_id)).one(db).await?.map(decode).transpose()
}

/// The owner hash of each of `document_ids` that exists.
pub async fn owners(db: &impl ConnectionTrait, document_ids: &[String]) -> Result<Vec<(String, String)>, ApiError> {
    if document_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(document::Entity::find()
        .filter(document::Column::DocumentId.is_in(document_ids.iter().map(String::as_str)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.document_id, row.owner_key_hash))
        .collect())
}

/// Counts one more reuse of each of `document_ids`, inside the citing dossier's transaction.
pub async fn count_reuse(connection: &impl ConnectionTrait, document_ids: &[String]) -> Result<(), ApiError> {
    if document_ids.is_empty() {
        return Ok(());
    }
    document::Entity::update_many()
        .col_expr(document::Column::ReuseCount, sea_orm::sea_query::Expr::col(document::Column::ReuseCount).add(1))
        .filter(document::Column::DocumentId.is_in(document_ids.iter().map(String::as_str)))
        .exec(connection)
        .await?;
    Ok(())
}

/// The owner's documents (optionally of one type) with a row id below `before_id`, newest first.
pub async fn list(
    db: &DatabaseConnection,
    owner_key_hash: &str,
    document_type: Option<&str>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<DocumentRecord>, ApiError> {
    let mut condition = Condition::all().add(document::Column::OwnerKeyHash.eq(owner_key_hash));
    if let Some(document_type) = document_type {
        condition = condition.add(document::Column::DocumentType.eq(document_type));
    }
    if let Some(before_id) = before_id {
        condition = condition.add(document::Column::Id.lt(before_id));
    }
    document::Entity::find()
        .filter(condition)
        .order_by_desc(document::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

fn decode(row: document::Model) -> Result<DocumentRecord, ApiError> {
    let document = serde_json::from_str(&row.body)
        .map_err(|error| ApiError::internal(format!("document row {}: {error}", row.id)))?;
    Ok(DocumentRecord { id: row.id, document, content: row.content, reuse_count: row.reuse_count })
}
