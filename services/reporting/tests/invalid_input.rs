//! Every RPC of reporting that takes client input, sent generated requests (impossible periods and
//! dates, unknown enum values, any text as codes, order and page tokens) against one running service on
//! SQLite whose feeds are unreachable: each answer is OK or a clean error, INVALID_ARGUMENT with its
//! details for invalid input, never INTERNAL, UNKNOWN or a dropped connection. The export's stream is
//! read to its end, since its errors come in the stream.

mod common;

use common::start_with_sources_down;
use motcua_proto::motcua::reporting::v1 as pb;
use motcua_testkit::{
    TestDatabase, clients,
    invalid_input::{check_rpc, date, enum_value, page_size, page_token, request_id, text},
};
use proptest::prelude::*;

fn period() -> BoxedStrategy<Option<pb::Period>> {
    prop_oneof![
        1 => Just(None),
        4 => (enum_value(), date(), date()).prop_map(|(kind, date, end_date)| Some(pb::Period { kind, date, end_date })),
    ]
    .boxed()
}

fn code() -> BoxedStrategy<String> {
    prop_oneof![Just(String::new()), Just("CN01".to_owned()), Just("1.012822".to_owned()), text()].boxed()
}

#[test]
fn every_report_answers_any_request_cleanly() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let database = TestDatabase::sqlite();
    let (_server, client) = runtime.block_on(async {
        let server = start_with_sources_down(&database).await;
        let client = clients::reporting(server.local_addr).await;
        (server, client)
    });
    check_rpc(
        &runtime,
        "GetSummary",
        (period(), code(), code(), enum_value(), enum_value()).prop_map(
            |(period, branch_code, procedure_code, level, channel)| pb::GetSummaryRequest {
                period,
                branch_code,
                procedure_code,
                level,
                channel,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.get_summary(request).await.map(drop) }
        },
    );
    let order_by = prop_oneof![Just(String::new()), Just("on_time_rate desc".to_owned()), text()];
    check_rpc(
        &runtime,
        "ListBranchStats",
        (page_size(), page_token(), period(), code(), enum_value(), enum_value(), order_by).prop_map(
            |(page_size, page_token, period, procedure_code, level, channel, order_by)| pb::ListBranchStatsRequest {
                page_size,
                page_token,
                period,
                procedure_code,
                level,
                channel,
                order_by,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_branch_stats(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetServiceIndex",
        (period(), code()).prop_map(|(period, branch_code)| pb::GetServiceIndexRequest { period, branch_code }),
        |request| {
            let mut client = client.clone();
            async move { client.get_service_index(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ExportReport",
        (enum_value(), period(), code(), code(), enum_value(), enum_value()).prop_map(
            |(kind, period, branch_code, procedure_code, level, channel)| pb::ExportReportRequest {
                kind,
                period,
                branch_code,
                procedure_code,
                level,
                channel,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move {
                let mut stream = client.export_report(request).await?.into_inner();
                while stream.message().await?.is_some() {}
                Ok(())
            }
        },
    );
    check_rpc(
        &runtime,
        "RebuildProjections",
        request_id().prop_map(|request_id| pb::RebuildProjectionsRequest { request_id }),
        |request| {
            let mut client = client.clone();
            async move { client.rebuild_projections(request).await.map(drop) }
        },
    );
}
