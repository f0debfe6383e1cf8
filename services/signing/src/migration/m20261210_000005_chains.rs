//! Each certificate chain stored once: `certificate_chains` keyed by the SHA-256 of the chain's PEM,
//! which signatures reference instead of carrying the chain again; and `signatures.cms_sha256`, indexed,
//! through which `VerifySignature` finds a signature by its CMS bytes. Existing rows are moved over
//! (chains deduplicated, CMS hashes backfilled) before `signatures.chain_pem` is dropped.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement, Value},
};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CertificateChains {
    Table,
    ChainSha256,
    ChainPem,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    ChainSha256,
    CmsSha256,
    ChainPem,
}

/// Rows moved a statement at a time, so a large table is never read whole into memory.
const CHUNK: u64 = 500;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CertificateChains::Table)
                    .if_not_exists()
                    .col(blob(CertificateChains::ChainSha256).primary_key())
                    .col(text(CertificateChains::ChainPem))
                    .to_owned(),
            )
            .await?;
        // Nullable only while existing rows are moved: every row written from here on has both.
        for column in [Signatures::ChainSha256, Signatures::CmsSha256] {
            manager
                .alter_table(Table::alter().table(Signatures::Table).add_column(blob_null(column)).to_owned())
                .await?;
        }
        move_existing_rows(manager).await?;
        manager
            .alter_table(Table::alter().table(Signatures::Table).drop_column(Signatures::ChainPem).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("signatures_cms_sha256")
                    .table(Signatures::Table)
                    .col(Signatures::CmsSha256)
                    .to_owned(),
            )
            .await
    }
}

/// Stores each distinct chain of the existing signatures once and points the rows at it, with the
/// SHA-256 of their CMS bytes.
async fn move_existing_rows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    let backend = connection.get_database_backend();
    let placeholders = |sql: &str| motcua_chassis::db::placeholders(backend, sql);
    loop {
        let rows = connection
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT signature_id, chain_pem, cms_der FROM signatures WHERE cms_sha256 IS NULL \
                     ORDER BY signature_id LIMIT {CHUNK}"
                ),
            ))
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in rows {
            let signature_id: String = row.try_get("", "signature_id")?;
            let chain_pem: String = row.try_get("", "chain_pem")?;
            let cms_der: Vec<u8> = row.try_get("", "cms_der")?;
            let chain_sha256 = Sha256::digest(chain_pem.as_bytes()).to_vec();
            connection
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        "INSERT INTO certificate_chains (chain_sha256, chain_pem) VALUES ($1, $2) \
                         ON CONFLICT (chain_sha256) DO NOTHING",
                    ),
                    [Value::from(chain_sha256.clone()), Value::from(chain_pem)],
                ))
                .await?;
            connection
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders("UPDATE signatures SET chain_sha256 = $1, cms_sha256 = $2 WHERE signature_id = $3"),
                    [
                        Value::from(chain_sha256),
                        Value::from(Sha256::digest(&cms_der).to_vec()),
                        Value::from(signature_id),
                    ],
                ))
                .await?;
        }
    }
}
