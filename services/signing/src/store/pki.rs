//! Authorities and certificates: storing what was issued or imported, reading them for signing,
//! verification and listings, and revoking.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};

use super::entities::{authority, certificate, certificate_chain, crl};

/// Stores a new certificate.
pub async fn insert_certificate(connection: &impl ConnectionTrait, row: certificate::Model) -> Result<(), DbErr> {
    certificate::Entity::insert(row.into_active_model().reset_all()).exec_without_returning(connection).await?;
    Ok(())
}

/// Stores a new authority (its certificate stored first).
pub async fn insert_authority(connection: &impl ConnectionTrait, row: authority::Model) -> Result<(), DbErr> {
    authority::Entity::insert(row.into_active_model().reset_all()).exec_without_returning(connection).await?;
    Ok(())
}

/// One authority.
pub async fn authority(
    connection: &impl ConnectionTrait,
    authority_id: &str,
) -> Result<Option<authority::Model>, DbErr> {
    authority::Entity::find_by_id(authority_id).one(connection).await
}

/// One certificate.
pub async fn certificate(
    connection: &impl ConnectionTrait,
    certificate_id: &str,
) -> Result<Option<certificate::Model>, DbErr> {
    certificate::Entity::find_by_id(certificate_id).one(connection).await
}

/// The intermediate of a branch, if there is one.
pub async fn intermediate_of_branch(
    connection: &impl ConnectionTrait,
    branch_code: &str,
) -> Result<Option<authority::Model>, DbErr> {
    authority::Entity::find()
        .filter(authority::Column::Kind.eq(2))
        .filter(authority::Column::BranchCode.eq(branch_code))
        .one(connection)
        .await
}

/// Every authority with its certificate: the trust anchors and intermediates verification chains to.
pub async fn authorities_with_certificates(
    db: &DatabaseConnection,
) -> Result<Vec<(authority::Model, certificate::Model)>, DbErr> {
    let authorities = authority::Entity::find().all(db).await?;
    let mut pairs = Vec::with_capacity(authorities.len());
    for authority in authorities {
        if let Some(certificate) = certificate(db, &authority.certificate_id).await? {
            pairs.push((authority, certificate));
        }
    }
    Ok(pairs)
}

/// The certificates of a holder of a kind (`2` person, `3` organisation), newest first.
pub async fn certificates_of_holder(
    connection: &impl ConnectionTrait,
    holder_id: &str,
    subject_kind: i16,
) -> Result<Vec<certificate::Model>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::HolderId.eq(holder_id))
        .filter(certificate::Column::SubjectKind.eq(subject_kind))
        .order_by_desc(certificate::Column::CreatedAt)
        .all(connection)
        .await
}

/// The filters of a certificate listing.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    /// Only of this issuing authority.
    pub issuer_authority_id: Option<String>,
    /// Only of this branch.
    pub branch_code: Option<String>,
    /// Only of this holder.
    pub holder_id: Option<String>,
    /// Only of this subject kind.
    pub subject_kind: Option<i16>,
}

/// Certificates matching `filter`, newest first (by creation time, then id), after the keyset position
/// `after` (`<created_at micros>:<certificate_id>`), at most `limit`.
pub async fn list_certificates(
    db: &DatabaseConnection,
    filter: &CertificateFilter,
    after: Option<(DateTime<Utc>, String)>,
    limit: u64,
) -> Result<Vec<certificate::Model>, DbErr> {
    let mut condition = Condition::all();
    if let Some(issuer) = &filter.issuer_authority_id {
        condition = condition.add(certificate::Column::IssuerAuthorityId.eq(issuer.as_str()));
    }
    if let Some(branch_code) = &filter.branch_code {
        condition = condition.add(certificate::Column::BranchCode.eq(branch_code.as_str()));
    }
    if let Some(holder_id) = &filter.holder_id {
        condition = condition.add(certificate::Column::HolderId.eq(holder_id.as_str()));
    }
    if let Some(kind) = filter.subject_kind {
        condition = condition.add(certificate::Column::SubjectKind.eq(kind));
    }
    if let Some((created_at, certificate_id)) = after {
        condition = condition.add(
            Condition::any().add(certificate::Column::CreatedAt.lt(created_at)).add(
                Condition::all()
                    .add(certificate::Column::CreatedAt.eq(created_at))
                    .add(certificate::Column::CertificateId.lt(certificate_id)),
            ),
        );
    }
    certificate::Entity::find()
        .filter(condition)
        .order_by_desc(certificate::Column::CreatedAt)
        .order_by_desc(certificate::Column::CertificateId)
        .limit(limit)
        .all(db)
        .await
}

/// Authorities, roots first then by branch code and id, after `after` (`<kind>:<branch>:<id>`).
pub async fn list_authorities(
    db: &DatabaseConnection,
    kind: Option<i16>,
    branch_code: Option<&str>,
) -> Result<Vec<authority::Model>, DbErr> {
    let mut query = authority::Entity::find();
    if let Some(kind) = kind {
        query = query.filter(authority::Column::Kind.eq(kind));
    }
    if let Some(branch_code) = branch_code {
        query = query.filter(authority::Column::BranchCode.eq(branch_code));
    }
    query
        .order_by_asc(authority::Column::Kind)
        .order_by_asc(authority::Column::BranchCode)
        .order_by_asc(authority::Column::AuthorityId)
        .all(db)
        .await
}

/// Marks a certificate revoked, with the revocation's log index.
pub async fn revoke(
    connection: &impl ConnectionTrait,
    certificate_id: &str,
    reason: i16,
    note: &str,
    revoked_at: DateTime<Utc>,
    log_index: i64,
) -> Result<(), DbErr> {
    certificate::ActiveModel {
        certificate_id: Set(certificate_id.to_owned()),
        revoked_at: Set(Some(revoked_at)),
        revocation_reason: Set(Some(reason)),
        revocation_note: Set(Some(note.to_owned())),
        revocation_log_index: Set(Some(log_index)),
        ..Default::default()
    }
    .update(connection)
    .await?;
    Ok(())
}

/// The revoked certificates an authority issued.
pub async fn revoked_by(
    connection: &impl ConnectionTrait,
    authority_id: &str,
) -> Result<Vec<certificate::Model>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::IssuerAuthorityId.eq(authority_id))
        .filter(certificate::Column::RevokedAt.is_not_null())
        .order_by_asc(certificate::Column::RevokedAt)
        .all(connection)
        .await
}

/// Stores an authority's new CRL and moves its CRL number on.
pub async fn store_crl(connection: &impl ConnectionTrait, row: crl::Model) -> Result<(), DbErr> {
    authority::ActiveModel {
        authority_id: Set(row.authority_id.clone()),
        crl_number: Set(row.crl_number),
        ..Default::default()
    }
    .update(connection)
    .await?;
    crl::Entity::insert(row.into_active_model().reset_all()).exec_without_returning(connection).await?;
    Ok(())
}

/// An authority's CRL by number, or its latest for `None`.
pub async fn crl(
    db: &DatabaseConnection,
    authority_id: &str,
    crl_number: Option<i64>,
) -> Result<Option<crl::Model>, DbErr> {
    let query = crl::Entity::find().filter(crl::Column::AuthorityId.eq(authority_id));
    match crl_number {
        Some(number) => query.filter(crl::Column::CrlNumber.eq(number)).one(db).await,
        None => query.order_by_desc(crl::Column::CrlNumber).one(db).await,
    }
}

/// Stores a chain under its SHA-256, unless it is stored already (by this replica or another).
pub async fn store_chain(connection: &impl ConnectionTrait, chain_sha256: &[u8], chain_pem: &str) -> Result<(), DbErr> {
    certificate_chain::Entity::insert(certificate_chain::ActiveModel {
        chain_sha256: Set(chain_sha256.to_vec()),
        chain_pem: Set(chain_pem.to_owned()),
    })
    .on_conflict(OnConflict::column(certificate_chain::Column::ChainSha256).do_nothing().to_owned())
    .exec_without_returning(connection)
    .await?;
    Ok(())
}

/// The stored chains with these hashes, as (hash, PEM).
pub async fn chains(connection: &impl ConnectionTrait, hashes: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, String)>, DbErr> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let rows = certificate_chain::Entity::find()
        .filter(certificate_chain::Column::ChainSha256.is_in(hashes))
        .all(connection)
        .await?;
    Ok(rows.into_iter().map(|row| (row.chain_sha256, row.chain_pem)).collect())
}

/// The ids among `certificate_ids` of certificates revoked (or gone), read in the caller's
/// transaction after it took the log's head.
pub async fn revoked_among(
    connection: &impl ConnectionTrait,
    certificate_ids: &[String],
) -> Result<Vec<String>, DbErr> {
    let unrevoked: Vec<String> = certificate::Entity::find()
        .select_only()
        .column(certificate::Column::CertificateId)
        .filter(certificate::Column::CertificateId.is_in(certificate_ids.iter().cloned()))
        .filter(certificate::Column::RevokedAt.is_null())
        .into_tuple()
        .all(connection)
        .await?;
    Ok(certificate_ids.iter().filter(|id| !unrevoked.contains(id)).cloned().collect())
}

/// The current CRL number of each of `authority_ids` that exists.
pub async fn crl_numbers(
    connection: &impl ConnectionTrait,
    authority_ids: &[String],
) -> Result<Vec<(String, i64)>, DbErr> {
    if authority_ids.is_empty() {
        return Ok(Vec::new());
    }
    authority::Entity::find()
        .select_only()
        .column(authority::Column::AuthorityId)
        .column(authority::Column::CrlNumber)
        .filter(authority::Column::AuthorityId.is_in(authority_ids.iter().cloned()))
        .into_tuple()
        .all(connection)
        .await
}

/// `row` then the certificate of each authority above it, up to the root.
pub async fn chain(
    connection: &impl ConnectionTrait,
    row: certificate::Model,
) -> Result<Vec<certificate::Model>, DbErr> {
    let mut next_authority = row.issuer_authority_id.clone();
    let mut chain = vec![row];
    // An authority's chain is short; the bound guards against a cycle in a tampered database.
    while let Some(authority_id) = next_authority.take() {
        if chain.len() > 8 {
            return Err(DbErr::Custom("the authority chain is longer than 8: the database is inconsistent".to_owned()));
        }
        let Some(authority) = authority(connection, &authority_id).await? else { break };
        let Some(certificate) = certificate(connection, &authority.certificate_id).await? else { break };
        if chain.iter().any(|held| held.certificate_id == certificate.certificate_id) {
            break;
        }
        next_authority = certificate.issuer_authority_id.clone();
        chain.push(certificate);
    }
    Ok(chain)
}
