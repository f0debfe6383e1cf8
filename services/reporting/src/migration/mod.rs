//! The reporting service's database migrations, in order. None yet: the schema arrives with the reporting
//! issue, and a released migration is never edited.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// The reporting service's migrator.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
