//! Receipt's job table: the chassis's `jobs`, with a signing job for every receipt still waiting for
//! its signature, whose retries the signing job of earlier releases kept in the receipt's own row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        motcua_chassis::jobs::schema::create_table(manager).await?;
        // State 1 is PENDING in both tables; the receipt's `next_sign_at` is a time the driver wrote, in
        // the form every job time is compared in.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO jobs (kind, subject, payload, request_id, traceparent, state, attempts, run_at, \
                 lease_owner, lease_until, last_error, created_at, updated_at) \
                 SELECT '{kind}', 'receipts/' || receipt_id, {empty}, request_id, '', 1, 0, next_sign_at, '', NULL, \
                 '', next_sign_at, next_sign_at FROM receipts WHERE signature_state = 1 ORDER BY id",
                kind = crate::store::signatures::SIGN,
                empty = match manager.get_database_backend() {
                    sea_orm::DbBackend::Postgres => "''::bytea",
                    _ => "X''",
                },
            ))
            .await?;
        Ok(())
    }
}
