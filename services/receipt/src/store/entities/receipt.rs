//! A row of `receipts`: the columns listings and reports filter on, the issued receipt as JSON, its
//! corrections as JSON, the signed XML, and the signature's state for the signing job.

use sea_orm::entity::prelude::*;

/// One receipt. `body` never changes after issue; `revision` guards the corrections against lost
/// updates; the signature columns belong to the signing job.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub receipt_id: String,
    pub series_id: String,
    pub number: i64,
    pub kind: i16,
    pub branch_code: String,
    pub dossier_code: String,
    pub issue_date: String,
    pub state: i16,
    pub relation: i16,
    pub total: i64,
    #[sea_orm(unique)]
    pub lookup_code: String,
    pub revision: i32,
    pub body: String,
    pub corrections: String,
    pub xml: String,
    pub xml_sha256: Vec<u8>,
    pub request_id: String,
    pub signature_state: i16,
    pub signature_name: String,
    pub log_index: i64,
    pub sign_time: Option<DateTimeUtc>,
    pub sign_attempts: i32,
    pub sign_last_error: String,
    pub next_sign_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
