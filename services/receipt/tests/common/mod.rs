//! What every receipt test needs: a receipt service with signing unreachable, a client, series and
//! receipt requests for known test payers.

#![allow(dead_code)]

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    server::RunningServer,
    testing::{TestDatabase, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{Applicant, Citizen, Money, applicant::Kind},
    receipt::v1::{self as pb, receipt_service_client::ReceiptServiceClient},
};
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;
use tonic::transport::Channel;

pub type Client = ReceiptServiceClient<Channel>;

/// A port nothing listens on: signing is down for these tests.
pub const UNREACHABLE_SIGNING: &str = "http://127.0.0.1:9";

/// The receipt service on `database`, calling signing at `signing_url`.
pub async fn start_receipt(database: &TestDatabase, signing_url: &str) -> RunningServer {
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, signing_url.to_owned());
    start_service_with::<motcua_receipt::Receipt>(config).await
}

pub async fn client(addr: std::net::SocketAddr) -> Client {
    ReceiptServiceClient::connect(format!("http://{addr}")).await.expect("receipt answers")
}

pub fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::from(motcua_chassis::clock::Clock::system().now())
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{nanos:x}-{:x}-{:x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The current year in Asia/Ho_Chi_Minh, the year of series that issue today.
pub fn this_year() -> i32 {
    use chrono::Datelike;
    (motcua_chassis::clock::Clock::system().now() + chrono::Duration::hours(7)).year()
}

pub const PAYER_NAME: &str = "Nguyễn Thị Hương";
pub const PAYER_IDENTITY: &str = "001199004321";
pub const PAYER_PHONE: &str = "0987654321";

pub fn payer() -> Applicant {
    Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: PAYER_IDENTITY.to_owned(),
            full_name: PAYER_NAME.to_owned(),
            date_of_birth: None,
            phone: PAYER_PHONE.to_owned(),
            address: "Số 5 phố Hàng Bài, Hà Nội".to_owned(),
        })),
    }
}

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
        collector: Some(pb::Collector { officer_id: "CB001".to_owned(), display_name: "Lê Thu Trang".to_owned() }),
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
