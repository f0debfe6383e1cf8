//! The reporting service's database migrations, in order. A released migration is never edited.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261201_000001_rollups;
mod m20261202_000002_audit_trail;
mod m20261209_000003_jobs;
mod m20261211_000004_audit_chain;

/// The reporting service's migrator.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261201_000001_rollups::Migration),
            Box::new(m20261202_000002_audit_trail::Migration),
            Box::new(m20261209_000003_jobs::Migration),
            Box::new(m20261211_000004_audit_chain::Migration),
        ]
    }
}
