//! A row of `procedures`: one version of one procedure.

use sea_orm::entity::prelude::*;

/// One version of one procedure. `fee_items` and `components` hold JSON arrays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "procedures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub procedure_code: String,
    pub version: i32,
    pub is_current: bool,
    pub national_code: Option<String>,
    pub display_name: String,
    pub level: i16,
    pub sector: String,
    pub sector_key: String,
    pub search_text: String,
    pub time_limit_value: Option<i32>,
    pub time_limit_unit: Option<i16>,
    pub after_15h_next_working_day: bool,
    pub fee_status: i16,
    pub fee_items: String,
    pub fee_note: String,
    pub components: String,
    pub source: String,
    pub created_at: DateTimeUtc,
    pub superseded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
