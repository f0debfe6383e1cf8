//! What only the receipt tests share: fee-receipt series, the content of a fee receipt and issuing it.
//! What every crate's tests share (clients, request ids, the payer, starting receipt) comes from the
//! test kit, re-exported here under the names these tests use.

#![allow(dead_code, unused_imports)]

use motcua_proto::motcua::{common::v1::Money, receipt::v1 as pb};
pub use motcua_testkit::{
    calendar::this_year,
    clients::{Receipt as Client, receipt as client},
    people::{PAYER_IDENTITY, PAYER_NAME, PAYER_PHONE, collector, payer},
    request_id,
    services::{UNREACHABLE as UNREACHABLE_SIGNING, start_receipt},
};

/// Creates an open fee-receipt series of `branch_code` for this year.
pub async fn fee_series(receipt: &mut Client, branch_code: &str, series_symbol: &str) -> pb::Series {
    receipt
        .create_series(pb::CreateSeriesRequest {
            request_id: request_id(),
            series_id: String::new(),
            branch_code: branch_code.to_owned(),
            year: this_year(),
            kind: pb::ReceiptKind::FeeReceipt as i32,
            template_symbol: "01BLP0-001".to_owned(),
            series_symbol: series_symbol.to_owned(),
        })
        .await
        .expect("series created")
        .into_inner()
        .series
        .expect("a series")
}

pub fn item(name: &str, dong: i64) -> pb::ReceiptItem {
    pb::ReceiptItem { name: name.to_owned(), amount: Some(Money { dong }) }
}

/// What a fee receipt of `dossier_code` for 1,050,000 đồng says.
pub fn fee_content(dossier_code: &str) -> pb::ReceiptContent {
    pb::ReceiptContent {
        collecting_organisation: "Sở Tư pháp thành phố Hà Nội".to_owned(),
        collecting_tax_code: "0101234567".to_owned(),
        payer: Some(payer()),
        dossier_code: dossier_code.to_owned(),
        procedure_code: "1.001193".to_owned(),
        items: vec![item("Lệ phí cấp phiếu lý lịch tư pháp", 1_000_000), item("Phí cung cấp thông tin", 50_000)],
        payment_method: pb::PaymentMethod::Cash as i32,
        issue_date: None,
        collector: Some(collector("CB001")),
        acknowledgement: None,
    }
}

pub fn issue_request(series: &pb::Series, dossier_code: &str) -> pb::IssueReceiptRequest {
    pb::IssueReceiptRequest {
        request_id: request_id(),
        series: series.name.clone(),
        content: Some(fee_content(dossier_code)),
    }
}

pub async fn issue(receipt: &mut Client, request: pb::IssueReceiptRequest) -> pb::Receipt {
    receipt.issue_receipt(request).await.expect("issued").into_inner().receipt.expect("a receipt")
}

/// Signing, down: its database already knows collector CB001 of CN01 (so when it comes back no retry
/// can land before the collector's certificate, which would be a refusal for good, not a delay), and
/// the loopback address where it will come back, on which nothing listens yet.
pub async fn signing_down_with_the_collector() -> (motcua_testkit::TestDatabase, std::net::SocketAddr) {
    let signing_database = motcua_testkit::TestDatabase::sqlite();
    let setup = motcua_testkit::services::start_signing(&signing_database).await;
    let mut signing = motcua_testkit::clients::signing(setup.local_addr).await;
    motcua_testkit::authorities::deploy_officer(&mut signing, "CN01", "CB001", motcua_testkit::people::COLLECTOR_NAME)
        .await;
    drop(signing);
    setup.stop().await.expect("clean stop");
    (signing_database, motcua_testkit::wait::free_loopback_address())
}
