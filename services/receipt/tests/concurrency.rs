//! The must-show of gap-free numbering: 16 concurrent clients issue 5,000 receipts on one series, each
//! request sent again as a retry would be, against two service instances on one PostgreSQL database
//! (and one instance on SQLite): the numbers are exactly 1..=5000, no duplicate, no gap. On PostgreSQL
//! one instance numbers in batches and the other one by one, so both paths race on one counter.

mod common;

use std::collections::HashMap;

use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{TestDatabase, start_service_with},
};
use motcua_proto::motcua::receipt::v1 as pb;
use motcua_receipt::settings::{ENV_RECEIPT_NUMBER_BATCH, ENV_RECEIPT_SIGNING_URL};
use tonic::Code;

const RECEIPTS: usize = 5_000;
const CLIENTS: usize = 16;

/// Issues `request`, retrying with the same request id while the answer says to.
async fn issue_with_retries(receipt: &mut Client, request: pb::IssueReceiptRequest) -> pb::Receipt {
    for _ in 0..50 {
        match receipt.issue_receipt(request.clone()).await {
            Ok(response) => return response.into_inner().receipt.expect("a receipt"),
            Err(status) if matches!(status.code(), Code::Unavailable | Code::Aborted | Code::ResourceExhausted) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(status) => panic!("issue failed: {status:?}"),
        }
    }
    panic!("issue kept failing with retryable errors")
}

async fn issue_concurrently(addresses: &[std::net::SocketAddr]) -> (String, Vec<i64>) {
    let mut setup = client(addresses[0]).await;
    let series = fee_series(&mut setup, "CN99", "ZZ-25E").await;
    let mut tasks = Vec::new();
    for index in 0..CLIENTS {
        let address = addresses[index % addresses.len()];
        let series = series.clone();
        tasks.push(tokio::spawn(async move {
            let mut receipt = client(address).await;
            let mut numbers = Vec::new();
            let share = RECEIPTS / CLIENTS + usize::from(index < RECEIPTS % CLIENTS);
            for request_index in 0..share {
                let request = issue_request(&series, &format!("dossier-{index}-{request_index}"));
                let issued = issue_with_retries(&mut receipt, request.clone()).await;
                // Every tenth request is sent again, as a client that lost the answer would.
                if request_index % 10 == 0 {
                    let retried = issue_with_retries(&mut receipt, request).await;
                    assert_eq!(retried.number, issued.number, "a retry returns the original number");
                    assert_eq!(retried.name, issued.name);
                }
                numbers.push(issued.number);
            }
            numbers
        }));
    }
    let mut numbers = Vec::with_capacity(RECEIPTS);
    for task in tasks {
        numbers.extend(task.await.expect("a client task"));
    }
    (series.name, numbers)
}

fn assert_gap_free(mut numbers: Vec<i64>, backend: &str) {
    numbers.sort_unstable();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for number in &numbers {
        *seen.entry(*number).or_default() += 1;
    }
    assert!(seen.values().all(|count| *count == 1), "{backend}: a number was issued twice");
    assert_eq!(numbers, (1..=RECEIPTS as i64).collect::<Vec<_>>(), "{backend}: numbers are exactly 1..={RECEIPTS}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_issue_five_thousand_gap_free_numbers_on_two_instances_over_postgres() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let mut batched = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    batched.service_variables.insert(ENV_RECEIPT_SIGNING_URL, UNREACHABLE_SIGNING.to_owned());
    batched.service_variables.insert(ENV_RECEIPT_NUMBER_BATCH, "64".to_owned());
    let first = start_service_with::<motcua_receipt::Receipt>(batched).await;
    let second = start_receipt(&database, UNREACHABLE_SIGNING).await;
    let (series_name, numbers) = issue_concurrently(&[first.local_addr, second.local_addr]).await;
    assert_gap_free(numbers, "postgres");
    let mut receipt = client(second.local_addr).await;
    let series = receipt.get_series(pb::GetSeriesRequest { name: series_name }).await.expect("series").into_inner();
    assert_eq!(series.last_number, RECEIPTS as i64);
    first.stop().await.expect("clean stop");
    second.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_issue_five_thousand_gap_free_numbers_on_sqlite() {
    let database = TestDatabase::sqlite();
    let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
    let (series_name, numbers) = issue_concurrently(&[server.local_addr]).await;
    assert_gap_free(numbers, "sqlite");
    let mut receipt = client(server.local_addr).await;
    let series = receipt.get_series(pb::GetSeriesRequest { name: series_name }).await.expect("series").into_inner();
    assert_eq!(series.last_number, RECEIPTS as i64);
    server.stop().await.expect("clean stop");
}
