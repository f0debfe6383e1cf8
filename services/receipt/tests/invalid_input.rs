//! Every unary RPC of receipt that takes client input, sent generated requests (any text, huge and
//! negative amounts and years, missing messages, unknown enum values, bogus names and page tokens)
//! against one running service on SQLite: each answer is OK or a clean error, INVALID_ARGUMENT with
//! its details for invalid input, never INTERNAL, UNKNOWN or a dropped connection.

mod common;

use common::{
    Client, PAYER_IDENTITY, UNREACHABLE_SIGNING, client, fee_content, fee_series, issue, issue_request, start_receipt,
    this_year,
};
use motcua_chassis::testing::{
    TestDatabase,
    invalid_input::{
        applicant, check_rpc, date, enum_value, int32, int64, mostly, name, optional_text, page_size, page_token,
        request_id, some, text, timestamp,
    },
};
use motcua_proto::motcua::{common::v1::Money, receipt::v1 as pb};
use proptest::prelude::*;

/// What exists in the service, so that generated requests also reach past the validators.
struct Known {
    series: Vec<String>,
    receipts: Vec<String>,
    lookup_codes: Vec<String>,
}

/// One service with signing unreachable, an open series and an issued receipt.
fn start() -> (tokio::runtime::Runtime, TestDatabase, motcua_chassis::server::RunningServer, Client, Known) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let database = TestDatabase::sqlite();
    let (server, client, known) = runtime.block_on(async {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AA").await;
        let issued = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;
        let known =
            Known { series: vec![series.name], receipts: vec![issued.name], lookup_codes: vec![issued.lookup_code] };
        (server, receipt, known)
    });
    (runtime, database, server, client, known)
}

fn series_name(known: &Known) -> BoxedStrategy<String> {
    name("series", known.series.clone())
}

fn receipt_name(known: &Known) -> BoxedStrategy<String> {
    name("receipts", known.receipts.clone())
}

fn year() -> BoxedStrategy<i32> {
    prop_oneof![Just(this_year()), 1990..2200, int32()].boxed()
}

fn items() -> BoxedStrategy<Vec<pb::ReceiptItem>> {
    let amount = prop_oneof![Just(None), int64().prop_map(|dong| Some(Money { dong }))];
    some((text(), amount).prop_map(|(name, amount)| pb::ReceiptItem { name, amount }), 4)
}

fn collector() -> BoxedStrategy<Option<pb::Collector>> {
    prop_oneof![
        Just(None),
        Just(Some(pb::Collector { officer_id: "CB001".to_owned(), display_name: "Lê Thu Trang".to_owned() })),
        (text(), text()).prop_map(|(officer_id, display_name)| Some(pb::Collector { officer_id, display_name })),
    ]
    .boxed()
}

fn acknowledgement() -> BoxedStrategy<Option<pb::Acknowledgement>> {
    let component = (text(), enum_value(), int32()).prop_map(|(name, copy_kind, copies)| pb::AcknowledgedComponent {
        name,
        copy_kind,
        copies,
    });
    prop_oneof![
        Just(None),
        (text(), timestamp(), timestamp(), some(component, 3)).prop_map(
            |(procedure_name, receive_time, appointment_time, components)| Some(pb::Acknowledgement {
                procedure_name,
                receive_time,
                appointment_time,
                components,
            })
        ),
    ]
    .boxed()
}

fn content() -> BoxedStrategy<Option<pb::ReceiptContent>> {
    let tax_code = prop_oneof![Just("0101234567".to_owned()), text()];
    let dossier_code = prop_oneof![Just("000.01.12.H26-250301-0001".to_owned()), text()];
    prop_oneof![
        1 => Just(None),
        4 => Just(Some(fee_content("000.01.12.H26-250301-0001"))),
        4 => (
            (text(), tax_code, applicant(PAYER_IDENTITY), dossier_code, text()),
            (items(), enum_value(), date(), collector(), acknowledgement()),
        )
            .prop_map(
                |(
                    (collecting_organisation, collecting_tax_code, payer, dossier_code, procedure_code),
                    (items, payment_method, issue_date, collector, acknowledgement),
                )| Some(pb::ReceiptContent {
                    collecting_organisation,
                    collecting_tax_code,
                    payer,
                    dossier_code,
                    procedure_code,
                    items,
                    payment_method,
                    issue_date,
                    collector,
                    acknowledgement,
                })
            ),
    ]
    .boxed()
}

#[test]
fn series_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    let symbol = prop_oneof![2 => "[A-Z]{2}", 1 => "[A-Z]{1,3}", 1 => text()];
    let template = mostly("01BLP0-001".to_owned(), text());
    let branch = mostly("CN01".to_owned(), text());
    check_rpc(
        &runtime,
        "CreateSeries",
        (
            request_id(),
            optional_text(),
            branch.clone(),
            year(),
            mostly(pb::ReceiptKind::FeeReceipt as i32, enum_value()),
            template,
            symbol,
        )
            .prop_map(|(request_id, series_id, branch_code, year, kind, template_symbol, series_symbol)| {
                pb::CreateSeriesRequest {
                    request_id,
                    series_id,
                    branch_code,
                    year,
                    kind,
                    template_symbol,
                    series_symbol,
                }
            }),
        |request| {
            let mut client = client.clone();
            async move { client.create_series(request).await.map(drop) }
        },
    );
    check_rpc(&runtime, "GetSeries", series_name(&known).prop_map(|name| pb::GetSeriesRequest { name }), |request| {
        let mut client = client.clone();
        async move { client.get_series(request).await.map(drop) }
    });
    check_rpc(
        &runtime,
        "ListSeries",
        (page_size(), page_token(), branch, year(), enum_value(), enum_value()).prop_map(
            |(page_size, page_token, branch_code, year, kind, state)| pb::ListSeriesRequest {
                page_size,
                page_token,
                branch_code,
                year,
                kind,
                state,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_series(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetUsageReport",
        (date(), date(), series_name(&known), text(), enum_value()).prop_map(
            |(start_date, end_date, series, branch_code, kind)| pb::GetUsageReportRequest {
                start_date,
                end_date,
                series,
                branch_code,
                kind,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.get_usage_report(request).await.map(drop) }
        },
    );
    // Last: a well-formed request may close the open series.
    check_rpc(
        &runtime,
        "CloseSeries",
        (request_id(), series_name(&known), text()).prop_map(|(request_id, name, reason)| pb::CloseSeriesRequest {
            request_id,
            name,
            reason,
        }),
        |request| {
            let mut client = client.clone();
            async move { client.close_series(request).await.map(drop) }
        },
    );
}

#[test]
fn receipts_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    check_rpc(
        &runtime,
        "IssueReceipt",
        (request_id(), series_name(&known), content())
            .prop_map(|(request_id, series, content)| pb::IssueReceiptRequest { request_id, series, content }),
        |request| {
            let mut client = client.clone();
            async move { client.issue_receipt(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetReceipt",
        receipt_name(&known).prop_map(|name| pb::GetReceiptRequest { name }),
        |request| {
            let mut client = client.clone();
            async move { client.get_receipt(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListReceipts",
        (page_size(), page_token(), series_name(&known), date(), date(), text(), enum_value(), enum_value()).prop_map(
            |(page_size, page_token, series, issue_date_from, issue_date_to, dossier_code, kind, state)| {
                pb::ListReceiptsRequest {
                    page_size,
                    page_token,
                    series,
                    issue_date_from,
                    issue_date_to,
                    dossier_code,
                    kind,
                    state,
                }
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_receipts(request).await.map(drop) }
        },
    );
    let lookup_code = prop_oneof![prop::sample::select(known.lookup_codes.clone()), text()];
    check_rpc(
        &runtime,
        "LookupReceipt",
        lookup_code.prop_map(|lookup_code| pb::LookupReceiptRequest { lookup_code }),
        |request| {
            let mut client = client.clone();
            async move { client.lookup_receipt(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "RenderReceipt",
        (receipt_name(&known), enum_value()).prop_map(|(name, format)| pb::RenderReceiptRequest { name, format }),
        |request| {
            let mut client = client.clone();
            async move { client.render_receipt(request).await.map(drop) }
        },
    );
}

#[test]
fn corrections_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    check_rpc(
        &runtime,
        "AdjustReceipt",
        (request_id(), receipt_name(&known), text(), series_name(&known), items(), collector(), date()).prop_map(
            |(request_id, name, reason, series, items, collector, issue_date)| pb::AdjustReceiptRequest {
                request_id,
                name,
                reason,
                series,
                items,
                collector,
                issue_date,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.adjust_receipt(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ReplaceReceipt",
        (request_id(), receipt_name(&known), text(), series_name(&known), content()).prop_map(
            |(request_id, name, reason, series, content)| pb::ReplaceReceiptRequest {
                request_id,
                name,
                reason,
                series,
                content,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.replace_receipt(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "CancelReceipt",
        (request_id(), receipt_name(&known), text(), prop_oneof![Just("CB001".to_owned()), text()]).prop_map(
            |(request_id, name, reason, officer_id)| pb::CancelReceiptRequest { request_id, name, reason, officer_id },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.cancel_receipt(request).await.map(drop) }
        },
    );
}
