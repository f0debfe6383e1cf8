//! The single row of `log_integration`: how many leaves the stored tiles cover. The replica that
//! integrates locks it, so one integrates at a time.

use sea_orm::entity::prelude::*;

/// The integration state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_integration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub integrated_size: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
