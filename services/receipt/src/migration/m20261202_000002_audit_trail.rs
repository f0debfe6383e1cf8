//! Receipt's audit trail: the chassis's two append-only tables.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        motcua_chassis::audit::schema::create_tables(manager).await
    }
}
