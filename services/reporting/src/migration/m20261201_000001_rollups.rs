//! The rollups (live, and the shadow copy a rebuild fills), reporting's own view of each dossier, the
//! feed cursors with their follower leases, and the rebuilds (`running_guard` is 1 on the running one
//! and NULL otherwise, so that a unique index lets only one run across replicas).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Written once for both backends: only types and syntax SQLite and PostgreSQL share.
const ROLLUPS: &str = "(
    day TEXT NOT NULL,
    branch_code TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    level INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (day, branch_code, procedure_code, level, channel, metric)
)";

const TRACKED_DOSSIERS: &str = "(
    dossier_code TEXT PRIMARY KEY,
    branch_code TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    level INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    received_day TEXT NULL,
    status INTEGER NOT NULL,
    is_open INTEGER NOT NULL,
    appointment_ms BIGINT NULL,
    filed_components INTEGER NOT NULL,
    digitized_components INTEGER NOT NULL,
    reused_components INTEGER NOT NULL,
    flagged INTEGER NOT NULL
)";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["rollups", "rebuild_rollups"] {
            db.execute_unprepared(&format!("CREATE TABLE {table} {ROLLUPS}")).await?;
        }
        for table in ["tracked_dossiers", "rebuild_tracked_dossiers"] {
            db.execute_unprepared(&format!("CREATE TABLE {table} {TRACKED_DOSSIERS}")).await?;
            // The stock counters read only the open dossiers of a period.
            db.execute_unprepared(&format!("CREATE INDEX {table}_open ON {table} (is_open, received_day)")).await?;
        }
        db.execute_unprepared(
            "CREATE TABLE feed_cursors (
                feed TEXT PRIMARY KEY,
                cursor BIGINT NOT NULL,
                holder TEXT NOT NULL,
                lease_until_ms BIGINT NOT NULL,
                head BIGINT NOT NULL,
                last_event_ms BIGINT NULL,
                last_apply_ms BIGINT NULL,
                last_error TEXT NOT NULL
            )",
        )
        .await?;
        for feed in ["intake", "signing", "receipt"] {
            db.execute_unprepared(&format!(
                "INSERT INTO feed_cursors (feed, cursor, holder, lease_until_ms, head, last_error) VALUES ('{feed}', 0, '', 0, 0, '')"
            ))
            .await?;
        }
        db.execute_unprepared(
            "CREATE TABLE rebuilds (
                rebuild_id TEXT PRIMARY KEY,
                request_id TEXT NOT NULL UNIQUE,
                state INTEGER NOT NULL,
                start_ms BIGINT NOT NULL,
                end_ms BIGINT NULL,
                heartbeat_ms BIGINT NOT NULL,
                events_applied BIGINT NOT NULL,
                error_reason TEXT NOT NULL,
                running_guard INTEGER NULL UNIQUE
            )",
        )
        .await?;
        Ok(())
    }
}
