//! Signature and seal records: stored once in the signing act's transaction, then only read.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use sha2::{Digest, Sha256};

use super::entities::signature;

/// Stores new records, in one statement.
pub async fn insert_many(connection: &impl ConnectionTrait, rows: Vec<signature::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    signature::Entity::insert_many(rows.into_iter().map(|row| row.into_active_model().reset_all()))
        .exec_without_returning(connection)
        .await?;
    Ok(())
}

/// One record.
pub async fn get(connection: &impl ConnectionTrait, signature_id: &str) -> Result<Option<signature::Model>, DbErr> {
    signature::Entity::find_by_id(signature_id).one(connection).await
}

/// The record of exactly these CMS bytes, if signing made them: found through the index on their
/// SHA-256, then compared whole.
pub async fn find_by_cms(db: &DatabaseConnection, cms_der: &[u8]) -> Result<Option<signature::Model>, DbErr> {
    let candidates = signature::Entity::find()
        .filter(signature::Column::CmsSha256.eq(Sha256::digest(cms_der).to_vec()))
        .all(db)
        .await?;
    Ok(candidates.into_iter().find(|candidate| candidate.cms_der == cms_der))
}

/// The filters of a signature listing.
#[derive(Debug, Clone, Default)]
pub struct SignatureFilter {
    /// Only of this subject.
    pub subject: Option<String>,
    /// Only of this branch.
    pub branch_code: Option<String>,
    /// Only of this kind.
    pub kind: Option<i16>,
    /// Only with this certificate.
    pub certificate_id: Option<String>,
    /// Only at or after.
    pub start_time: Option<DateTime<Utc>>,
    /// Only before.
    pub end_time: Option<DateTime<Utc>>,
}

/// Records matching `filter`, newest first (by log index, which follows signing order), with a log
/// index below `before_log_index`, at most `limit`.
pub async fn list(
    db: &DatabaseConnection,
    filter: &SignatureFilter,
    before_log_index: Option<i64>,
    limit: u64,
) -> Result<Vec<signature::Model>, DbErr> {
    let mut condition = Condition::all();
    if let Some(subject) = &filter.subject {
        condition = condition.add(signature::Column::Subject.eq(subject.as_str()));
    }
    if let Some(branch_code) = &filter.branch_code {
        condition = condition.add(signature::Column::BranchCode.eq(branch_code.as_str()));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(signature::Column::Kind.eq(kind));
    }
    if let Some(certificate_id) = &filter.certificate_id {
        condition = condition.add(signature::Column::CertificateId.eq(certificate_id.as_str()));
    }
    if let Some(start) = filter.start_time {
        condition = condition.add(signature::Column::SignTime.gte(start));
    }
    if let Some(end) = filter.end_time {
        condition = condition.add(signature::Column::SignTime.lt(end));
    }
    if let Some(before) = before_log_index {
        condition = condition.add(signature::Column::LogIndex.lt(before));
    }
    signature::Entity::find().filter(condition).order_by_desc(signature::Column::LogIndex).limit(limit).all(db).await
}

/// The record whose leaf is `log_index`.
pub async fn by_log_index(db: &DatabaseConnection, log_index: i64) -> Result<Option<signature::Model>, DbErr> {
    signature::Entity::find().filter(signature::Column::LogIndex.eq(log_index)).one(db).await
}
