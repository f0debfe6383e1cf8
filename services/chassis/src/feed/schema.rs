//! The feed's two tables, created by each service's own migration, and the one SQL dialect detail
//! the feed's hand-written statements need.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Sequence,
    EventId,
    OccurTime,
    Subject,
    RequestId,
    Traceparent,
    EventType,
    Payload,
}

#[derive(DeriveIden)]
enum FeedHead {
    Table,
    Id,
    Head,
    UpdatedAt,
}

/// Creates `events` (the outbox) and `feed_head` (the numbering's single row). Call it from the
/// service's migration that introduces its feed.
pub async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Events::Table)
                .if_not_exists()
                .col(big_pk_auto(Events::Id))
                .col(big_integer_null(Events::Sequence).unique_key())
                .col(string_len(Events::EventId, 36))
                .col(timestamp_with_time_zone(Events::OccurTime))
                .col(text(Events::Subject))
                .col(text(Events::RequestId))
                .col(text(Events::Traceparent))
                .col(string_len(Events::EventType, 64))
                .col(blob(Events::Payload))
                .to_owned(),
        )
        .await?;
    // The sequencer looks only for unnumbered events: a partial index keeps that cheap however long
    // the feed grows (both SQLite and PostgreSQL support it).
    manager
        .get_connection()
        .execute_unprepared("CREATE INDEX IF NOT EXISTS events_unsequenced ON events (id) WHERE sequence IS NULL")
        .await?;
    manager
        .create_table(
            Table::create()
                .table(FeedHead::Table)
                .if_not_exists()
                .col(integer(FeedHead::Id).primary_key())
                .col(big_integer(FeedHead::Head))
                .col(timestamp_with_time_zone(FeedHead::UpdatedAt))
                .to_owned(),
        )
        .await?;
    manager
        .get_connection()
        .execute_unprepared("INSERT INTO feed_head (id, head, updated_at) VALUES (1, 0, CURRENT_TIMESTAMP)")
        .await?;
    Ok(())
}
