//! A row of `series`: a series and the counter of its numbers (`last_number`).

use sea_orm::entity::prelude::*;

/// One series. `last_number` is the counter the issuing transaction increments and holds until it
/// commits.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub series_id: String,
    pub branch_code: String,
    pub year: i32,
    pub kind: i16,
    pub template_symbol: String,
    pub series_symbol: String,
    pub state: i16,
    pub last_number: i64,
    pub last_issue_date: String,
    pub create_time: DateTimeUtc,
    pub close_time: Option<DateTimeUtc>,
    pub close_reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
