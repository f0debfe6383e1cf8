//! The single row of `log_audit`: where the background auditor of the transparency log has got to,
//! and what it found.

use sea_orm::entity::prelude::*;

/// The auditor's progress.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_audit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The first leaf the current pass has not checked yet.
    pub next_leaf: i64,
    /// The passes over the whole log completed.
    pub passes: i64,
    /// The mismatch found, once one was: the log stays inconsistent until an operator clears it.
    pub finding: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
