//! A row of `branches`.

use sea_orm::entity::prelude::*;

/// One branch of the center.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "branches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_code: String,
    pub display_name: String,
    pub agency_code: String,
    pub service_area: String,
    pub address: String,
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
