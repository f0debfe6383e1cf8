//! Intake's audit chain: the chassis's hash chain over the trail, and its head.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        motcua_chassis::audit::schema::create_chain_tables(manager).await
    }
}
