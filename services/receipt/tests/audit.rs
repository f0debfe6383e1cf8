//! Receipt's audit trail over real gRPC, on SQLite and PostgreSQL: issuing is a mutation naming the
//! receipt, its series, its dossier and its collector; reading and rendering receipts are reads of the
//! payer's data; a refused issue keeps its code and reason; the payer never reaches the trail. How the
//! trail filters, pages and records refusals is the chassis's, tested once (intake's tests/audit.rs).

mod common;

use common::{
    PAYER_IDENTITY, PAYER_NAME, PAYER_PHONE, UNREACHABLE_SIGNING, client, fee_series, issue_request, start_receipt,
};
use motcua_chassis::testing::{TrailReader, on_every_database};
use motcua_proto::motcua::{
    audit::v1::{ListAuditRecordsRequest, audit_record::Action},
    receipt::v1 as pb,
};
use tonic::{Code, Request};
use tonic_types::StatusExt;

const ISSUE: &str = "/motcua.receipt.v1.ReceiptService/IssueReceipt";
const GET: &str = "/motcua.receipt.v1.ReceiptService/GetReceipt";
const LIST: &str = "/motcua.receipt.v1.ReceiptService/ListReceipts";
const RENDER: &str = "/motcua.receipt.v1.ReceiptService/RenderReceipt";
const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

fn from<T>(identity: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-motcua-identity", identity.parse().expect("ASCII"));
    request.metadata_mut().insert("traceparent", format!("00-{TRACE_ID}-b7ad6b7169203331-01").parse().expect("ASCII"));
    request
}

#[tokio::test]
async fn issuing_is_a_mutation_and_reading_or_rendering_is_a_read_of_the_payer_and_the_payer_stays_out() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AA-26E").await;
        let request = issue_request(&series, "000.01.12.H26-260101-0001");
        let issued = receipt
            .issue_receipt(from("staff/cn01", request.clone()))
            .await
            .expect("issued")
            .into_inner()
            .receipt
            .expect("a receipt");
        receipt
            .get_receipt(from("agency/thue", pb::GetReceiptRequest { name: issued.name.clone() }))
            .await
            .expect("read");
        receipt
            .list_receipts(from(
                "agency/thue",
                pb::ListReceiptsRequest { series: series.name.clone(), ..Default::default() },
            ))
            .await
            .expect("listed");
        receipt
            .render_receipt(from(
                "agency/thue",
                pb::RenderReceiptRequest { name: issued.name.clone(), format: pb::RenderFormat::Xml as i32 },
            ))
            .await
            .expect("rendered");

        let issues = trail.of_request(&request.request_id).await;
        assert_eq!(issues.len(), 1, "{}", database.backend);
        let record = &issues[0];
        assert_eq!((record.rpc.as_str(), record.action()), (ISSUE, Action::Mutation));
        assert_eq!(record.identity, "spiffe://motcua/staff/cn01");
        assert_eq!(record.actor_id, "CB001", "the collector");
        assert_eq!(
            record.subjects,
            vec![series.name.clone(), "dossiers/000.01.12.H26-260101-0001".to_owned(), issued.name.clone()]
        );
        assert_eq!((record.trace_id.as_str(), record.status_code), (TRACE_ID, 0));

        let reads = trail
            .records(ListAuditRecordsRequest { action: Action::PersonalDataRead as i32, ..Default::default() })
            .await;
        let rpcs: Vec<&str> = reads.iter().map(|record| record.rpc.as_str()).collect();
        assert_eq!(rpcs, vec![GET, LIST, RENDER], "{}", database.backend);
        assert!(reads.iter().all(|record| record.subjects == vec![issued.name.clone()]));
        assert!(reads.iter().all(|record| record.identity == "spiffe://motcua/agency/thue"));

        // Series reads and the citizen's lookup carry no payer: not recorded.
        let before = trail.all().await;
        receipt.get_series(pb::GetSeriesRequest { name: series.name.clone() }).await.expect("series");
        receipt
            .lookup_receipt(pb::LookupReceiptRequest { lookup_code: issued.lookup_code.clone() })
            .await
            .expect("looked up");
        let after = trail.all().await;
        assert_eq!(after, before);
        assert!(after.windows(2).all(|pair| pair[0].sequence < pair[1].sequence));

        let text = format!("{after:?}");
        for personal in [PAYER_NAME, PAYER_IDENTITY, PAYER_PHONE, "Hàng Bài", "Lê Thu Trang"] {
            assert!(!text.contains(personal), "{}: {personal} in the trail", database.backend);
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_refused_issue_is_recorded_with_its_code_and_reason() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN02", "AB-26E").await;
        let mut request = issue_request(&series, "000.01.12.H26-260101-0002");
        if let Some(content) = request.content.as_mut() {
            content.items.clear();
        }
        let refusal = receipt.issue_receipt(from("staff/cn02", request.clone())).await.expect_err("no items");
        let reason = refusal.get_error_details().error_info().map(|info| info.reason.clone()).expect("ErrorInfo");

        let records = trail.of_request(&request.request_id).await;
        assert_eq!(records.len(), 1, "{}", database.backend);
        assert_eq!(records[0].status_code, Code::InvalidArgument as i32);
        assert_eq!(records[0].error_reason, reason);
        assert_eq!(records[0].action(), Action::Mutation);
        assert!(records[0].subjects.contains(&series.name), "the series it tried to issue in");

        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn receipts_numbered_together_each_commit_with_their_own_record() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN03", "AC-26E").await;
        let requests: Vec<pb::IssueReceiptRequest> =
            (1..=8).map(|day| issue_request(&series, &format!("000.01.12.H26-260101-{day:04}"))).collect();
        // Concurrent calls on one series queue for one batch transaction (SQLite's default).
        let calls: Vec<_> = requests
            .iter()
            .map(|request| {
                let mut client = receipt.clone();
                let request = request.clone();
                tokio::spawn(async move { client.issue_receipt(from("staff/cn03", request)).await })
            })
            .collect();
        let mut names = Vec::new();
        for call in calls {
            let issued = call.await.expect("joined").expect("issued").into_inner();
            names.push(issued.receipt.expect("a receipt").name);
        }
        for (request, name) in requests.iter().zip(&names) {
            let records = trail.of_request(&request.request_id).await;
            assert_eq!(records.len(), 1, "{}: one record per call", database.backend);
            assert_eq!(records[0].status_code, 0);
            assert!(records[0].subjects.contains(name), "{}: the record names its own receipt", database.backend);
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}
