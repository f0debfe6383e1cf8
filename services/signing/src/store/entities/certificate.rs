//! A row of `certificates`: an authority's, an officer's or a seal's certificate, its key (encrypted
//! PKCS#8 or a PKCS#11 label) and its revocation.

use sea_orm::entity::prelude::*;

/// A certificate signing holds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate_id: String,
    pub subject_kind: i16,
    pub holder_id: String,
    pub display_name: String,
    pub branch_code: String,
    pub roles: String,
    pub issuer_authority_id: Option<String>,
    pub serial_hex: String,
    pub subject_dn: String,
    pub issuer_dn: String,
    pub not_before: DateTimeUtc,
    pub not_after: DateTimeUtc,
    pub key_algorithm: i16,
    pub key_storage: i16,
    pub imported: bool,
    pub certificate_der: Vec<u8>,
    pub encrypted_key: Option<Vec<u8>>,
    pub pkcs11_key_label: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revocation_reason: Option<i16>,
    pub revocation_note: Option<String>,
    pub revocation_log_index: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
