//! Intake's database migrations, in order. A released migration is never edited: a change is a new one.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261125_000001_catalogue;
mod m20261125_000002_dossiers;
mod m20261125_000003_documents;
mod m20261125_000004_dossier_submitter;
mod m20261202_000005_audit_trail;
mod m20261209_000006_jobs;
mod m20261216_000007_follow_ups;
mod m20261217_000008_audit_chain;

/// Intake's migrator.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_catalogue::Migration),
            Box::new(m20261125_000002_dossiers::Migration),
            Box::new(m20261125_000003_documents::Migration),
            Box::new(m20261125_000004_dossier_submitter::Migration),
            Box::new(m20261202_000005_audit_trail::Migration),
            Box::new(m20261209_000006_jobs::Migration),
            Box::new(m20261216_000007_follow_ups::Migration),
            Box::new(m20261217_000008_audit_chain::Migration),
        ]
    }
}
