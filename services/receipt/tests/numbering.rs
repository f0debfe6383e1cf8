//! Batched numbering keeps every promise of one-by-one numbering: concurrent calls at the end of a
//! series get its last numbers and then SERIES_EXHAUSTED, a series closed while calls wait gives no
//! number after the close, concurrent retries of one request get one receipt, and both the batched
//! and the one-by-one settings start while a bad setting stops start-up. On SQLite and PostgreSQL.

mod common;

use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    server::RunningServer,
    testing::{TestDatabase, on_every_database, start_service_with},
};
use motcua_proto::motcua::receipt::v1 as pb;
use motcua_receipt::settings::{ENV_RECEIPT_NUMBER_BATCH, ENV_RECEIPT_SIGNING_URL};
use motcua_testkit::status::reason;
use sea_orm::{ConnectionTrait, Database};
use tonic::Code;

/// The largest number of a series (7 digits).
const MAX_NUMBER: i64 = 9_999_999;

async fn start_batching(database: &TestDatabase, batch: &str) -> RunningServer {
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, UNREACHABLE_SIGNING.to_owned());
    config.service_variables.insert(ENV_RECEIPT_NUMBER_BATCH, batch.to_owned());
    start_service_with::<motcua_receipt::Receipt>(config).await
}

/// Issues every request at once, each from its own client; each call's answer.
async fn issue_all_at_once(
    address: std::net::SocketAddr,
    requests: Vec<pb::IssueReceiptRequest>,
) -> Vec<Result<pb::Receipt, tonic::Status>> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for request in requests {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut receipt = client(address).await;
            barrier.wait().await;
            receipt.issue_receipt(request).await.map(|response| response.into_inner().receipt.expect("a receipt"))
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("a client task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_at_the_end_of_a_series_take_its_last_numbers_then_are_refused() {
    on_every_database(|database| async move {
        let server = start_batching(&database, "64").await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN97", "EX-25E").await;
        // Three numbers are left.
        let db = Database::connect(&database.url).await.expect("the test reaches the database");
        let series_id = series.name.trim_start_matches("series/");
        db.execute_unprepared(&format!(
            "UPDATE series SET last_number = {} WHERE series_id = '{series_id}'",
            MAX_NUMBER - 3
        ))
        .await
        .expect("the counter is moved");
        let requests = (0..10).map(|index| issue_request(&series, &format!("dossier-end-{index}"))).collect();
        let answers = issue_all_at_once(server.local_addr, requests).await;
        let mut numbers: Vec<i64> =
            answers.iter().filter_map(|answer| answer.as_ref().ok()).map(|r| r.number).collect();
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            vec![MAX_NUMBER - 2, MAX_NUMBER - 1, MAX_NUMBER],
            "{}: the last three numbers",
            database.backend
        );
        for refused in answers.iter().filter_map(|answer| answer.as_ref().err()) {
            assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
            assert_eq!(reason(refused), "SERIES_EXHAUSTED");
        }
        let series = receipt.get_series(pb::GetSeriesRequest { name: series.name }).await.expect("series").into_inner();
        assert_eq!(series.last_number, MAX_NUMBER);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_series_closed_while_calls_wait_numbers_what_came_before_and_nothing_after() {
    on_every_database(|database| async move {
        let server = start_batching(&database, "64").await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN97", "CL-25E").await;
        let address = server.local_addr;
        let issuing = {
            let series = series.clone();
            tokio::spawn(async move {
                let requests = (0..40).map(|index| issue_request(&series, &format!("dossier-close-{index}"))).collect();
                issue_all_at_once(address, requests).await
            })
        };
        receipt
            .close_series(pb::CloseSeriesRequest {
                request_id: request_id(),
                name: series.name.clone(),
                reason: "Hết năm tài chính".to_owned(),
            })
            .await
            .expect("closed");
        let answers = issuing.await.expect("the issuing task");
        let mut numbers: Vec<i64> =
            answers.iter().filter_map(|answer| answer.as_ref().ok()).map(|r| r.number).collect();
        numbers.sort_unstable();
        let closed = receipt.get_series(pb::GetSeriesRequest { name: series.name }).await.expect("series").into_inner();
        assert_eq!(
            numbers,
            (1..=closed.last_number).collect::<Vec<_>>(),
            "{}: no gap before the close",
            database.backend
        );
        for refused in answers.iter().filter_map(|answer| answer.as_ref().err()) {
            assert_eq!(reason(refused), "SERIES_CLOSED", "{refused:?}");
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_request_get_one_receipt() {
    on_every_database(|database| async move {
        let server = start_batching(&database, "64").await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN97", "RT-25E").await;
        let request = issue_request(&series, "dossier-retried");
        let mut requests = vec![request; 8];
        requests.push(issue_request(&series, "dossier-other"));
        let answers = issue_all_at_once(server.local_addr, requests).await;
        let receipts: Vec<pb::Receipt> =
            answers.into_iter().map(|answer| answer.expect("every call is answered")).collect();
        let retried: Vec<&pb::Receipt> = receipts
            .iter()
            .filter(|receipt| receipt.content.as_ref().is_some_and(|c| c.dossier_code == "dossier-retried"))
            .collect();
        assert_eq!(retried.len(), 8);
        assert!(retried.iter().all(|receipt| receipt.name == retried[0].name), "one receipt for every retry");
        let series = receipt.get_series(pb::GetSeriesRequest { name: series.name }).await.expect("series").into_inner();
        assert_eq!(series.last_number, 2, "{}: two requests, two numbers", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn one_by_one_numbering_is_a_setting_and_a_bad_setting_stops_start_up() {
    let database = TestDatabase::sqlite();
    let server = start_batching(&database, "1").await;
    let mut receipt = client(server.local_addr).await;
    let series = fee_series(&mut receipt, "CN97", "ON-25E").await;
    let requests = (0..6).map(|index| issue_request(&series, &format!("dossier-one-{index}"))).collect();
    let mut numbers: Vec<i64> = issue_all_at_once(server.local_addr, requests)
        .await
        .into_iter()
        .map(|answer| answer.expect("issued").number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=6).collect::<Vec<_>>());
    server.stop().await.expect("clean stop");

    for bad in ["0", "1001", "many"] {
        let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
        config.service_variables.insert(ENV_RECEIPT_NUMBER_BATCH, bad.to_owned());
        let refused = motcua_chassis::service::start::<motcua_receipt::Receipt>(&config, std::future::pending()).await;
        let message = format!("{:#}", refused.err().expect("a bad batch size stops start-up"));
        assert!(message.contains(ENV_RECEIPT_NUMBER_BATCH), "{message}");
    }
}
