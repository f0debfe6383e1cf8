//! Intake's job table: the chassis's `jobs`, so that `ListJobs` answers here too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        motcua_chassis::jobs::schema::create_table(manager).await
    }
}
