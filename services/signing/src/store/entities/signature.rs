//! A row of `signatures`: one personal signature or seal, never changed or removed. Its chain is a
//! row of `certificate_chains`, referenced by hash.

use sea_orm::entity::prelude::*;

/// A signature or seal record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub signature_id: String,
    pub kind: i16,
    pub subject: String,
    pub document_sha256: Vec<u8>,
    pub cms_der: Vec<u8>,
    /// The SHA-256 of `cms_der`, indexed: how a signature is found by its CMS bytes.
    pub cms_sha256: Vec<u8>,
    pub certificate_id: String,
    /// The `certificate_chains` row of the signer's chain.
    pub chain_sha256: Vec<u8>,
    pub signer_id: String,
    pub signer_name: String,
    pub signer_role: i16,
    pub branch_code: String,
    pub approver_id: String,
    pub approver_name: String,
    pub officer_signature_id: Option<String>,
    pub sign_time: DateTimeUtc,
    pub check_state: i16,
    pub check_crl_number: i64,
    pub check_time: DateTimeUtc,
    pub log_index: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
