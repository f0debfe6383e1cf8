//! Receipt's audit trail over real gRPC, on SQLite and PostgreSQL: issuing is a mutation naming the
//! receipt, its series, its dossier and its collector; reading and rendering receipts are reads of the
//! payer's data; a refused issue keeps its code and reason; refusals by the policy are denials; and
//! the payer never reaches the trail.

mod common;

use common::{
    PAYER_IDENTITY, PAYER_NAME, PAYER_PHONE, UNREACHABLE_SIGNING, client, fee_series, issue, issue_request, request_id,
    start_receipt,
};
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::ENV_RECEIPT_SIGNING_URL,
    testing::{on_every_database, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{AuditRecord, audit_record::Action},
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

async fn trail(receipt: &mut common::Client, filter: pb::ListAuditRecordsRequest) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = receipt
            .list_audit_records(pb::ListAuditRecordsRequest { page_token: page_token.clone(), ..filter.clone() })
            .await
            .expect("the trail answers")
            .into_inner();
        records.extend(page.audit_records);
        if page.next_page_token.is_empty() {
            return records;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn issuing_is_a_mutation_and_reading_or_rendering_is_a_read_of_the_payer_and_the_payer_stays_out() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
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

        let issues = trail(
            &mut receipt,
            pb::ListAuditRecordsRequest { request_id: request.request_id.clone(), ..Default::default() },
        )
        .await;
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

        let reads = trail(
            &mut receipt,
            pb::ListAuditRecordsRequest { action: Action::PersonalDataRead as i32, ..Default::default() },
        )
        .await;
        let rpcs: Vec<&str> = reads.iter().map(|record| record.rpc.as_str()).collect();
        assert_eq!(rpcs, vec![GET, LIST, RENDER], "{}", database.backend);
        assert!(reads.iter().all(|record| record.subjects == vec![issued.name.clone()]));
        assert!(reads.iter().all(|record| record.identity == "spiffe://motcua/agency/thue"));

        // Series reads and the citizen's lookup carry no payer: not recorded.
        let before = trail(&mut receipt, pb::ListAuditRecordsRequest::default()).await;
        receipt.get_series(pb::GetSeriesRequest { name: series.name.clone() }).await.expect("series");
        receipt
            .lookup_receipt(pb::LookupReceiptRequest { lookup_code: issued.lookup_code.clone() })
            .await
            .expect("looked up");
        let after = trail(&mut receipt, pb::ListAuditRecordsRequest::default()).await;
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
        let series = fee_series(&mut receipt, "CN02", "AB-26E").await;
        let mut request = issue_request(&series, "000.01.12.H26-260101-0002");
        if let Some(content) = request.content.as_mut() {
            content.items.clear();
        }
        let refusal = receipt.issue_receipt(from("staff/cn02", request.clone())).await.expect_err("no items");
        let reason = refusal.get_error_details().error_info().map(|info| info.reason.clone()).expect("ErrorInfo");

        let records =
            trail(&mut receipt, pb::ListAuditRecordsRequest { request_id: request.request_id, ..Default::default() })
                .await;
        assert_eq!(records.len(), 1, "{}", database.backend);
        assert_eq!(records[0].status_code, Code::InvalidArgument as i32);
        assert_eq!(records[0].error_reason, reason);
        assert_eq!(records[0].action(), Action::Mutation);
        assert!(records[0].subjects.contains(&series.name), "the series it tried to issue in");

        // One issued receipt besides, to page through the trail one record at a time.
        issue(&mut receipt, issue_request(&series, "000.01.12.H26-260101-0003")).await;
        let everything = trail(&mut receipt, pb::ListAuditRecordsRequest::default()).await;
        let one_by_one = trail(&mut receipt, pb::ListAuditRecordsRequest { page_size: 1, ..Default::default() }).await;
        assert_eq!(one_by_one, everything);
        let by_rpc =
            trail(&mut receipt, pb::ListAuditRecordsRequest { rpc: ISSUE.to_owned(), ..Default::default() }).await;
        assert_eq!(by_rpc.len(), 2);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_call_the_policy_does_not_grant_is_recorded_as_denied() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-receipt-audit-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy = folder.join("policy.yaml");
        std::fs::write(
            &policy,
            "identities:\n  agency/auditor:\n    rpcs: [\"motcua.receipt.v1.ReceiptService/ListAuditRecords\"]\n",
        )
        .expect("written");
        let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
        config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, UNREACHABLE_SIGNING.to_owned());
        config.policy_file = Some(policy);
        let server = start_service_with::<motcua_receipt::Receipt>(config).await;
        let mut receipt = client(server.local_addr).await;

        let refused = receipt
            .get_receipt(from("agency/thue", pb::GetReceiptRequest { name: "receipts/anything".to_owned() }))
            .await
            .expect_err("not granted");
        assert_eq!(refused.code(), Code::PermissionDenied);
        let records = receipt
            .list_audit_records(from("agency/auditor", pb::ListAuditRecordsRequest::default()))
            .await
            .expect("the auditor reads")
            .into_inner()
            .audit_records;
        assert_eq!(records.len(), 1, "{}: {records:?}", database.backend);
        assert_eq!((records[0].action(), records[0].rpc.as_str()), (Action::Denied, GET));
        assert_eq!(records[0].identity, "spiffe://motcua/agency/thue");
        assert_eq!((records[0].status_code, records[0].error_reason.as_str()), (7, "RPC_NOT_ALLOWED"));
        server.stop().await.expect("clean stop");
        let _ = std::fs::remove_dir_all(folder);
    })
    .await;
}
