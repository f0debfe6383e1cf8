//! Signing's schema: authorities, certificates (with their encrypted keys), signatures, CRLs, the
//! transparency log (leaves, head, checkpoints, log key), the request-id record (the chassis's) and the event feed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Authorities {
    Table,
    AuthorityId,
    Kind,
    BranchCode,
    ParentId,
    DisplayName,
    CertificateId,
    Imported,
    CrlNumber,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    CertificateId,
    SubjectKind,
    HolderId,
    DisplayName,
    BranchCode,
    Roles,
    IssuerAuthorityId,
    SerialHex,
    SubjectDn,
    IssuerDn,
    NotBefore,
    NotAfter,
    KeyAlgorithm,
    KeyStorage,
    Imported,
    CertificateDer,
    EncryptedKey,
    Pkcs11KeyLabel,
    RevokedAt,
    RevocationReason,
    RevocationNote,
    RevocationLogIndex,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    SignatureId,
    Kind,
    Subject,
    DocumentSha256,
    CmsDer,
    CertificateId,
    ChainPem,
    SignerId,
    SignerName,
    SignerRole,
    BranchCode,
    ApproverId,
    ApproverName,
    OfficerSignatureId,
    SignTime,
    CheckState,
    CheckCrlNumber,
    CheckTime,
    LogIndex,
}

#[derive(DeriveIden)]
enum Crls {
    Table,
    AuthorityId,
    CrlNumber,
    ThisUpdate,
    NextUpdate,
    CrlDer,
}

#[derive(DeriveIden)]
enum LogLeaves {
    Table,
    LeafIndex,
    LeafData,
    LeafHash,
}

#[derive(DeriveIden)]
enum LogHead {
    Table,
    Id,
    TreeSize,
}

#[derive(DeriveIden)]
enum Checkpoints {
    Table,
    TreeSize,
    RootHash,
    Note,
    IssuedAt,
}

#[derive(DeriveIden)]
enum LogKey {
    Table,
    Id,
    EncryptedKey,
    PublicKey,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Authorities::Table)
                    .if_not_exists()
                    .col(string_len(Authorities::AuthorityId, 64).primary_key())
                    .col(small_integer(Authorities::Kind))
                    .col(text(Authorities::BranchCode))
                    .col(string_len_null(Authorities::ParentId, 64))
                    .col(text(Authorities::DisplayName))
                    .col(string_len(Authorities::CertificateId, 64))
                    .col(boolean(Authorities::Imported))
                    .col(big_integer(Authorities::CrlNumber))
                    .col(timestamp_with_time_zone(Authorities::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .if_not_exists()
                    .col(string_len(Certificates::CertificateId, 64).primary_key())
                    .col(small_integer(Certificates::SubjectKind))
                    .col(text(Certificates::HolderId))
                    .col(text(Certificates::DisplayName))
                    .col(text(Certificates::BranchCode))
                    .col(text(Certificates::Roles))
                    .col(string_len_null(Certificates::IssuerAuthorityId, 64))
                    .col(text(Certificates::SerialHex))
                    .col(text(Certificates::SubjectDn))
                    .col(text(Certificates::IssuerDn))
                    .col(timestamp_with_time_zone(Certificates::NotBefore))
                    .col(timestamp_with_time_zone(Certificates::NotAfter))
                    .col(small_integer(Certificates::KeyAlgorithm))
                    .col(small_integer(Certificates::KeyStorage))
                    .col(boolean(Certificates::Imported))
                    .col(blob(Certificates::CertificateDer))
                    .col(blob_null(Certificates::EncryptedKey))
                    .col(text_null(Certificates::Pkcs11KeyLabel))
                    .col(timestamp_with_time_zone_null(Certificates::RevokedAt))
                    .col(small_integer_null(Certificates::RevocationReason))
                    .col(text_null(Certificates::RevocationNote))
                    .col(big_integer_null(Certificates::RevocationLogIndex))
                    .col(timestamp_with_time_zone(Certificates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificates_holder")
                    .table(Certificates::Table)
                    .col(Certificates::HolderId)
                    .col(Certificates::SubjectKind)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Signatures::Table)
                    .if_not_exists()
                    .col(string_len(Signatures::SignatureId, 36).primary_key())
                    .col(small_integer(Signatures::Kind))
                    .col(text(Signatures::Subject))
                    .col(blob(Signatures::DocumentSha256))
                    .col(blob(Signatures::CmsDer))
                    .col(string_len(Signatures::CertificateId, 64))
                    .col(text(Signatures::ChainPem))
                    .col(text(Signatures::SignerId))
                    .col(text(Signatures::SignerName))
                    .col(small_integer(Signatures::SignerRole))
                    .col(text(Signatures::BranchCode))
                    .col(text(Signatures::ApproverId))
                    .col(text(Signatures::ApproverName))
                    .col(string_len_null(Signatures::OfficerSignatureId, 36))
                    .col(timestamp_with_time_zone(Signatures::SignTime))
                    .col(small_integer(Signatures::CheckState))
                    .col(big_integer(Signatures::CheckCrlNumber))
                    .col(timestamp_with_time_zone(Signatures::CheckTime))
                    .col(big_integer(Signatures::LogIndex).unique_key())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Crls::Table)
                    .if_not_exists()
                    .col(string_len(Crls::AuthorityId, 64))
                    .col(big_integer(Crls::CrlNumber))
                    .col(timestamp_with_time_zone(Crls::ThisUpdate))
                    .col(timestamp_with_time_zone(Crls::NextUpdate))
                    .col(blob(Crls::CrlDer))
                    .primary_key(Index::create().col(Crls::AuthorityId).col(Crls::CrlNumber))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogLeaves::Table)
                    .if_not_exists()
                    .col(big_integer(LogLeaves::LeafIndex).primary_key())
                    .col(blob(LogLeaves::LeafData))
                    .col(blob(LogLeaves::LeafHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogHead::Table)
                    .if_not_exists()
                    .col(integer(LogHead::Id).primary_key())
                    .col(big_integer(LogHead::TreeSize))
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared("INSERT INTO log_head (id, tree_size) VALUES (1, 0)").await?;
        manager
            .create_table(
                Table::create()
                    .table(Checkpoints::Table)
                    .if_not_exists()
                    .col(big_integer(Checkpoints::TreeSize).primary_key())
                    .col(blob(Checkpoints::RootHash))
                    .col(text(Checkpoints::Note))
                    .col(timestamp_with_time_zone(Checkpoints::IssuedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LogKey::Table)
                    .if_not_exists()
                    .col(integer(LogKey::Id).primary_key())
                    .col(blob(LogKey::EncryptedKey))
                    .col(blob(LogKey::PublicKey))
                    .to_owned(),
            )
            .await?;
        motcua_chassis::idempotency::create_table(manager).await?;
        motcua_chassis::feed::schema::create_tables(manager).await
    }
}
