//! Series (each row also the counter of its numbers), receipts, the request log of mutations and the
//! event feed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// The identifiers are the table's and its columns' names, so `series_id` starts with `series`.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Series {
    Table,
    Id,
    SeriesId,
    BranchCode,
    Year,
    Kind,
    TemplateSymbol,
    SeriesSymbol,
    State,
    LastNumber,
    LastIssueDate,
    CreateTime,
    CloseTime,
    CloseReason,
}

#[derive(DeriveIden)]
enum Receipts {
    Table,
    Id,
    ReceiptId,
    SeriesId,
    Number,
    Kind,
    BranchCode,
    DossierCode,
    IssueDate,
    State,
    Relation,
    Total,
    LookupCode,
    Revision,
    Body,
    Corrections,
    Xml,
    XmlSha256,
    RequestId,
    SignatureState,
    SignatureName,
    LogIndex,
    SignTime,
    SignAttempts,
    SignLastError,
    NextSignAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Series::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Series::Id))
                    .col(string_len_uniq(Series::SeriesId, 63))
                    .col(string_len(Series::BranchCode, 20))
                    .col(integer(Series::Year))
                    .col(small_integer(Series::Kind))
                    .col(string_len(Series::TemplateSymbol, 20))
                    .col(string_len(Series::SeriesSymbol, 20))
                    .col(small_integer(Series::State))
                    .col(big_integer(Series::LastNumber))
                    // `YYYY-MM-DD`, empty before the first number: text compares in date order.
                    .col(string_len(Series::LastIssueDate, 10))
                    .col(timestamp_with_time_zone(Series::CreateTime))
                    .col(timestamp_with_time_zone_null(Series::CloseTime))
                    .col(text(Series::CloseReason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("series_symbols")
                    .table(Series::Table)
                    .col(Series::BranchCode)
                    .col(Series::Year)
                    .col(Series::TemplateSymbol)
                    .col(Series::SeriesSymbol)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Receipts::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Receipts::Id))
                    .col(string_len_uniq(Receipts::ReceiptId, 36))
                    .col(string_len(Receipts::SeriesId, 63))
                    .col(big_integer(Receipts::Number))
                    .col(small_integer(Receipts::Kind))
                    .col(string_len(Receipts::BranchCode, 20))
                    .col(string_len(Receipts::DossierCode, 80))
                    .col(string_len(Receipts::IssueDate, 10))
                    .col(small_integer(Receipts::State))
                    .col(small_integer(Receipts::Relation))
                    .col(big_integer(Receipts::Total))
                    .col(string_len_uniq(Receipts::LookupCode, 16))
                    .col(integer(Receipts::Revision))
                    .col(text(Receipts::Body))
                    .col(text(Receipts::Corrections))
                    .col(text(Receipts::Xml))
                    .col(blob(Receipts::XmlSha256))
                    .col(string_len(Receipts::RequestId, 64))
                    .col(small_integer(Receipts::SignatureState))
                    .col(text(Receipts::SignatureName))
                    .col(big_integer(Receipts::LogIndex))
                    .col(timestamp_with_time_zone_null(Receipts::SignTime))
                    .col(integer(Receipts::SignAttempts))
                    .col(text(Receipts::SignLastError))
                    .col(timestamp_with_time_zone(Receipts::NextSignAt))
                    .to_owned(),
            )
            .await?;
        // A number is taken once per series: the counter row guarantees it, this index proves it.
        manager
            .create_index(
                Index::create()
                    .name("receipts_series_number")
                    .table(Receipts::Table)
                    .col(Receipts::SeriesId)
                    .col(Receipts::Number)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Listing filters walk their index in id order (keyset paging, newest first); the signing job
        // walks pending signatures by due time.
        for (name, columns) in [
            ("receipts_dossier", vec![Receipts::DossierCode, Receipts::Id]),
            ("receipts_issue_date", vec![Receipts::IssueDate, Receipts::Id]),
            ("receipts_signature_due", vec![Receipts::SignatureState, Receipts::NextSignAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Receipts::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        motcua_chassis::idempotency::create_table(manager).await?;
        motcua_chassis::feed::schema::create_tables(manager).await
    }
}
