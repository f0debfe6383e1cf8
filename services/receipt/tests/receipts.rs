//! Receipts over real gRPC, on SQLite and PostgreSQL, with signing down: series, issuing with gap-free
//! numbers and retries, corrections, listings, the citizen's lookup, the usage report and the feed.

mod common;

use common::*;
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_event::Payload};
use motcua_testkit::status::reason;
use prost::Message;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_receipt_takes_the_next_number_with_words_and_stays_pending_while_signing_is_down() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
        assert_eq!(series.state(), pb::SeriesState::Open);
        assert_eq!(series.last_number, 0);

        let first = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;
        let second = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0002")).await;
        assert_eq!((first.number, second.number), (1, 2), "{}", database.backend);
        assert_eq!(first.number_text, "0000001");
        assert_eq!(first.total.as_ref().map(|money| money.dong), Some(1_050_000));
        assert_eq!(first.total_in_words, "Một triệu không trăm năm mươi nghìn đồng");
        assert_eq!(first.state(), pb::ReceiptState::Issued);
        assert_eq!(first.relation(), pb::ReceiptRelation::Original);
        assert_eq!(first.xml_sha256.len(), 32);
        assert_eq!(first.lookup_code.len(), 19, "four groups of four: {}", first.lookup_code);
        let signature = first.signature.clone().expect("a signature state");
        assert_eq!(signature.state(), pb::SignatureState::Pending);

        // The job tries signing, fails, and records it; the receipt stays pending with its number.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let read =
            receipt.get_receipt(pb::GetReceiptRequest { name: first.name.clone() }).await.expect("read").into_inner();
        let signature = read.signature.expect("a signature state");
        assert_eq!(signature.state(), pb::SignatureState::Pending);
        assert!(signature.attempts >= 1, "the job asked signing at least once");
        assert!(!signature.last_error_reason.is_empty());
        assert_eq!(read.number, 1);

        let series =
            receipt.get_series(pb::GetSeriesRequest { name: series.name.clone() }).await.expect("series").into_inner();
        assert_eq!(series.last_number, 2);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_retry_returns_the_original_receipt_and_a_reused_request_id_is_refused() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN02", "AB-25E").await;
        let request = issue_request(&series, "000.02.12.H26-250301-0001");
        let first = issue(&mut receipt, request.clone()).await;
        let retry = issue(&mut receipt, request.clone()).await;
        assert_eq!(first, retry, "{}: a retry answers with the original", database.backend);

        let mut other_body = request.clone();
        other_body.content = Some(fee_content("000.02.12.H26-250301-0009"));
        let status = receipt.issue_receipt(other_body).await.expect_err("same id, other body");
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(reason(&status), "REQUEST_ID_REUSED");

        let next = issue(&mut receipt, issue_request(&series, "x")).await;
        assert_eq!(next.number, 2, "the retry took no number");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn invalid_requests_name_their_fields_and_closed_series_issue_nothing() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN03", "AB-25E").await;

        let duplicate = receipt
            .create_series(pb::CreateSeriesRequest {
                request_id: request_id(),
                series_id: String::new(),
                branch_code: "CN03".to_owned(),
                year: this_year(),
                kind: pb::ReceiptKind::FeeReceipt as i32,
                template_symbol: "01BLP0-001".to_owned(),
                series_symbol: "AB-25E".to_owned(),
            })
            .await
            .expect_err("same branch, year and symbols");
        assert_eq!((duplicate.code(), reason(&duplicate).as_str()), (Code::AlreadyExists, "SERIES_EXISTS"));

        let mut content = fee_content("d");
        content.items.clear();
        content.payment_method = 0;
        content.collecting_tax_code = "12".to_owned();
        let status = receipt
            .issue_receipt(pb::IssueReceiptRequest {
                request_id: request_id(),
                series: series.name.clone(),
                content: Some(content),
            })
            .await
            .expect_err("invalid content");
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_error_details()
            .bad_request()
            .expect("field violations")
            .field_violations
            .iter()
            .map(|violation| violation.field.clone())
            .collect();
        for field in ["content.items", "content.payment_method", "content.collecting_tax_code"] {
            assert!(fields.iter().any(|found| found == field), "{field} in {fields:?}");
        }
        assert!(!status.message().contains(PAYER_NAME));

        let mut past_year = fee_content("d");
        past_year.issue_date = Some(motcua_proto::google::r#type::Date { year: this_year() - 1, month: 6, day: 1 });
        let status = receipt
            .issue_receipt(pb::IssueReceiptRequest {
                request_id: request_id(),
                series: series.name.clone(),
                content: Some(past_year),
            })
            .await
            .expect_err("a date outside the series' year");
        assert_eq!(reason(&status), "DATE_OUT_OF_ORDER");

        let closed = receipt
            .close_series(pb::CloseSeriesRequest {
                request_id: request_id(),
                name: series.name.clone(),
                reason: "Hết năm".to_owned(),
            })
            .await
            .expect("closed")
            .into_inner()
            .series
            .expect("a series");
        assert_eq!(closed.state(), pb::SeriesState::Closed);
        let status = receipt.issue_receipt(issue_request(&series, "d")).await.expect_err("closed series");
        assert_eq!((status.code(), reason(&status).as_str()), (Code::FailedPrecondition, "SERIES_CLOSED"));

        let missing =
            receipt.get_receipt(pb::GetReceiptRequest { name: "receipts/nope".to_owned() }).await.expect_err("missing");
        assert_eq!(missing.code(), Code::NotFound);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn cancel_replace_and_adjust_keep_every_number_and_the_usage_report_counts_them() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN04", "AB-25E").await;
        let cancelled = issue(&mut receipt, issue_request(&series, "dossier-1")).await;
        let replaced = issue(&mut receipt, issue_request(&series, "dossier-2")).await;
        let adjusted = issue(&mut receipt, issue_request(&series, "dossier-3")).await;

        let cancel = pb::CancelReceiptRequest {
            request_id: request_id(),
            name: cancelled.name.clone(),
            reason: "Thu nhầm".to_owned(),
            officer_id: "CB002".to_owned(),
        };
        let after_cancel =
            receipt.cancel_receipt(cancel.clone()).await.expect("cancelled").into_inner().receipt.expect("receipt");
        assert_eq!(after_cancel.state(), pb::ReceiptState::Cancelled);
        assert_eq!(after_cancel.number, cancelled.number, "a cancelled receipt keeps its number");
        assert_eq!(after_cancel.cancellation.as_ref().map(|c| c.reason.as_str()), Some("Thu nhầm"));
        let again =
            receipt.cancel_receipt(cancel).await.expect("a retry answers").into_inner().receipt.expect("receipt");
        assert_eq!(again, after_cancel);
        let status = receipt
            .cancel_receipt(pb::CancelReceiptRequest {
                request_id: request_id(),
                name: cancelled.name.clone(),
                reason: "Lần nữa".to_owned(),
                officer_id: "CB002".to_owned(),
            })
            .await
            .expect_err("cancelled already");
        assert_eq!(reason(&status), "RECEIPT_NOT_CORRECTABLE");

        let mut corrected = fee_content("dossier-2");
        corrected.items = vec![item("Lệ phí cấp phiếu lý lịch tư pháp", 200_000)];
        let replacement = receipt
            .replace_receipt(pb::ReplaceReceiptRequest {
                request_id: request_id(),
                name: replaced.name.clone(),
                reason: "Sai số tiền".to_owned(),
                series: String::new(),
                content: Some(corrected),
            })
            .await
            .expect("replaced")
            .into_inner();
        let (original, new) = (replacement.original.expect("original"), replacement.replacement.expect("replacement"));
        assert_eq!(original.state(), pb::ReceiptState::Replaced);
        assert_eq!(original.replaced_by, new.name);
        assert_eq!(new.relation(), pb::ReceiptRelation::Replacement);
        assert_eq!(new.original_receipt, replaced.name);
        assert_eq!(new.number, 4);

        let adjustment = receipt
            .adjust_receipt(pb::AdjustReceiptRequest {
                request_id: request_id(),
                name: adjusted.name.clone(),
                reason: "Giảm phí".to_owned(),
                series: String::new(),
                items: vec![item("Phí cung cấp thông tin", -50_000)],
                collector: Some(pb::Collector { officer_id: "CB001".to_owned(), display_name: String::new() }),
                issue_date: None,
            })
            .await
            .expect("adjusted")
            .into_inner();
        let (original, difference) =
            (adjustment.original.expect("original"), adjustment.adjustment.expect("adjustment"));
        assert_eq!(original.state(), pb::ReceiptState::Adjusted);
        assert_eq!(original.adjustments, vec![difference.name.clone()]);
        assert_eq!(difference.total.as_ref().map(|money| money.dong), Some(-50_000));
        assert_eq!(difference.total_in_words, "Năm mươi nghìn đồng");
        assert_eq!(difference.number, 5);

        let today = {
            let day = (motcua_chassis::clock::Clock::system().now() + chrono::Duration::hours(7)).date_naive();
            use chrono::Datelike;
            motcua_proto::google::r#type::Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
        };
        let report = receipt
            .get_usage_report(pb::GetUsageReportRequest {
                start_date: Some(today),
                end_date: Some(today),
                series: series.name.clone(),
                branch_code: String::new(),
                kind: 0,
            })
            .await
            .expect("report")
            .into_inner();
        assert_eq!(report.series_usage.len(), 1);
        let usage = &report.series_usage[0];
        assert_eq!((usage.first_number, usage.last_number, usage.used_count), (1, 5, 5), "{}", database.backend);
        assert_eq!(usage.cancelled_numbers, vec![1]);
        assert_eq!((usage.cancelled_count, usage.replaced_count, usage.adjustment_count), (1, 1, 1));
        // Valid: the replacement (200,000), the adjusted original (1,050,000) and its difference (-50,000).
        assert_eq!(usage.total_collected.as_ref().map(|money| money.dong), Some(1_200_000));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn lookup_shows_only_the_citizen_view_and_every_miss_is_the_same_not_found() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN05", "AB-25E").await;
        let issued = issue(&mut receipt, issue_request(&series, "dossier-9")).await;

        let typed = issued.lookup_code.to_lowercase().replace('-', " ");
        let found = receipt
            .lookup_receipt(pb::LookupReceiptRequest { lookup_code: typed })
            .await
            .expect("found")
            .into_inner()
            .receipt
            .expect("a public receipt");
        assert_eq!(found.number.as_ref().map(|number| number.number_text.as_str()), Some("0000001"));
        assert_eq!(found.total_in_words, issued.total_in_words);
        assert_eq!(found.dossier_code, "dossier-9");
        let bytes = found.encode_to_vec();
        for personal in [PAYER_NAME, PAYER_IDENTITY, PAYER_PHONE, "Lê Thu Trang"] {
            assert!(!bytes.windows(personal.len()).any(|window| window == personal.as_bytes()), "{personal} leaked");
        }

        for code in ["0000-0000-0000-0000", "not a code", ""] {
            let status = receipt
                .lookup_receipt(pb::LookupReceiptRequest { lookup_code: code.to_owned() })
                .await
                .expect_err("no such code");
            assert_eq!(status.code(), Code::NotFound);
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn listings_page_newest_first_and_filter_by_series_and_dossier() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let first_series = fee_series(&mut receipt, "CN06", "AB-25E").await;
        let second_series = fee_series(&mut receipt, "CN06", "CD-25E").await;
        for index in 0..5 {
            issue(&mut receipt, issue_request(&first_series, &format!("dossier-{index}"))).await;
        }
        issue(&mut receipt, issue_request(&second_series, "dossier-0")).await;

        let mut numbers = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = receipt
                .list_receipts(pb::ListReceiptsRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                    series: first_series.name.clone(),
                    ..Default::default()
                })
                .await
                .expect("a page")
                .into_inner();
            numbers.extend(page.receipts.iter().map(|receipt| receipt.number));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        assert_eq!(numbers, vec![5, 4, 3, 2, 1], "{}", database.backend);

        let by_dossier = receipt
            .list_receipts(pb::ListReceiptsRequest { dossier_code: "dossier-0".to_owned(), ..Default::default() })
            .await
            .expect("by dossier")
            .into_inner();
        assert_eq!(by_dossier.receipts.len(), 2);

        let series = receipt
            .list_series(pb::ListSeriesRequest { page_size: 1, branch_code: "CN06".to_owned(), ..Default::default() })
            .await
            .expect("series")
            .into_inner();
        assert_eq!(series.series.len(), 1);
        assert_eq!(series.series[0].series_symbol, "AB-25E");
        let rest = receipt
            .list_series(pb::ListSeriesRequest {
                page_size: 1,
                page_token: series.next_page_token,
                branch_code: "CN06".to_owned(),
                ..Default::default()
            })
            .await
            .expect("next page")
            .into_inner();
        assert_eq!(rest.series.iter().map(|series| series.series_symbol.as_str()).collect::<Vec<_>>(), vec!["CD-25E"]);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn the_feed_streams_series_and_receipt_events_without_personal_data() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN07", "AB-25E").await;
        let issued = issue(&mut receipt, issue_request(&series, "dossier-feed")).await;
        receipt
            .cancel_receipt(pb::CancelReceiptRequest {
                request_id: request_id(),
                name: issued.name.clone(),
                reason: "Thu nhầm của Nguyễn Thị Hương".to_owned(),
                officer_id: "CB001".to_owned(),
            })
            .await
            .expect("cancelled");

        let mut stream =
            receipt.watch_events(pb::WatchEventsRequest { after_sequence: 0 }).await.expect("stream").into_inner();
        let mut events = Vec::new();
        while events.len() < 3 {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream goes on")
                .expect("no error");
            if !matches!(event.payload, Some(Payload::Heartbeat(_))) {
                events.push(event);
            }
        }
        let sequences: Vec<i64> =
            events.iter().map(|event| event.envelope.as_ref().map_or(0, |envelope| envelope.sequence)).collect();
        assert_eq!(sequences, vec![1, 2, 3], "{}", database.backend);
        assert!(matches!(events[0].payload, Some(Payload::SeriesCreated(_))));
        match &events[1].payload {
            Some(Payload::ReceiptIssued(issued_event)) => {
                assert_eq!(issued_event.number, 1);
                assert_eq!(issued_event.dossier_code, "dossier-feed");
                assert_eq!(issued_event.total.as_ref().map(|money| money.dong), Some(1_050_000));
            }
            other => panic!("expected ReceiptIssued, got {other:?}"),
        }
        assert!(matches!(events[2].payload, Some(Payload::ReceiptCancelled(_))));
        for event in &events {
            let bytes = event.encode_to_vec();
            for personal in [PAYER_NAME, PAYER_IDENTITY, PAYER_PHONE, "Lê Thu Trang"] {
                assert!(
                    !bytes.windows(personal.len()).any(|window| window == personal.as_bytes()),
                    "{personal} in an event"
                );
            }
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}
