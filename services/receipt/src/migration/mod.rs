//! The receipt service's database migrations, in order. A released migration is never edited: a
//! change is a new one.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000001_receipts;
mod m20261202_000002_audit_trail;
mod m20261209_000003_jobs;
mod m20261211_000004_audit_chain;

/// The receipt service's migrator.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_receipts::Migration),
            Box::new(m20261202_000002_audit_trail::Migration),
            Box::new(m20261209_000003_jobs::Migration),
            Box::new(m20261211_000004_audit_chain::Migration),
        ]
    }
}
