//! Receipt reads time from the chassis's clock: a test that sets it sees a receipt dated by it, so no
//! receipt test depends on the day it runs.

mod common;

use chrono::{DateTime, NaiveDate};
use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    clock::Clock,
    testing::{TestDatabase, on_every_database, start_service_with},
    timestamps, validate,
};
use motcua_proto::motcua::receipt::v1 as pb;
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;

#[tokio::test]
async fn a_receipt_without_an_issue_date_is_dated_and_stamped_by_the_service_clock() {
    on_every_database(|database: TestDatabase| async move {
        // 20 May 2031, 03:00 UTC: 10:00 in Asia/Ho_Chi_Minh, years away from any real run of the test.
        let fixed = DateTime::from_timestamp(1_937_012_400, 0).expect("a valid time");
        let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
        config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, UNREACHABLE_SIGNING.to_owned());
        config.clock = Clock::manual(fixed);
        let server = start_service_with::<motcua_receipt::Receipt>(config).await;
        let mut receipt = client(server.local_addr).await;
        let series = receipt
            .create_series(pb::CreateSeriesRequest {
                request_id: request_id(),
                series_id: String::new(),
                branch_code: "CN01".to_owned(),
                year: 2031,
                kind: pb::ReceiptKind::FeeReceipt as i32,
                template_symbol: "01BLP0-001".to_owned(),
                series_symbol: "AB-31E".to_owned(),
            })
            .await
            .expect("a series of the clock's year opens")
            .into_inner()
            .series
            .expect("a series");

        let issued = issue(&mut receipt, issue_request(&series, "000.00.12.H26-310520-0001")).await;

        let day = NaiveDate::from_ymd_opt(2031, 5, 20).expect("a calendar date");
        let content = issued.content.expect("the receipt's content");
        assert_eq!(content.issue_date, Some(validate::date_to_proto(day)));
        assert_eq!(issued.issue_time.as_ref().and_then(timestamps::from_proto), Some(fixed));
        server.stop().await.expect("receipt stops");
    })
    .await;
}
