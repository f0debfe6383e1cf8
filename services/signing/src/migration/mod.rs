//! The signing service's database migrations, in order; a released migration is never edited.

mod m20261125_000001_signing;
mod m20261202_000002_audit_trail;
mod m20261209_000003_jobs;
mod m20261210_000004_log_tiles;
mod m20261210_000005_chains;
mod m20261210_000006_witness;
mod m20261211_000007_audit_chain;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// The signing service's migrator.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_signing::Migration),
            Box::new(m20261202_000002_audit_trail::Migration),
            Box::new(m20261209_000003_jobs::Migration),
            Box::new(m20261210_000004_log_tiles::Migration),
            Box::new(m20261210_000005_chains::Migration),
            Box::new(m20261210_000006_witness::Migration),
            Box::new(m20261211_000007_audit_chain::Migration),
        ]
    }
}
