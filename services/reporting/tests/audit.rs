//! Reporting's audit trail over real gRPC, on SQLite and PostgreSQL: reporting holds counts and no
//! personal data, so its trail shows its one mutation, the rebuild, answered or refused, and the calls
//! the policy refused; queries are not recorded.

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{as_identity, on_every_database, start_service, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{AuditRecord, audit_record::Action},
    reporting::v1::{self as pb, reporting_service_client::ReportingServiceClient},
};
use motcua_reporting::Reporting;
use tonic::{Code, transport::Channel};

const REBUILD: &str = "/motcua.reporting.v1.ReportingService/RebuildProjections";

type Client = ReportingServiceClient<Channel>;

async fn trail(reporting: &mut Client) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reporting
            .list_audit_records(pb::ListAuditRecordsRequest { page_token, page_size: 1, ..Default::default() })
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
async fn a_rebuild_is_a_mutation_naming_the_rebuild_a_refused_one_keeps_its_reason_and_queries_are_not_recorded() {
    on_every_database(|database| async move {
        let server = start_service::<Reporting>(&database).await;
        let mut reporting = ReportingServiceClient::connect(format!("http://{}", server.local_addr)).await.expect("up");
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = reporting
            .rebuild_projections(as_identity(
                "staff/thong-ke",
                pb::RebuildProjectionsRequest { request_id: request_id.clone() },
            ))
            .await
            .expect("a rebuild starts")
            .into_inner()
            .rebuild
            .expect("the rebuild");
        let refused = reporting
            .rebuild_projections(pb::RebuildProjectionsRequest { request_id: "not a uuid".to_owned() })
            .await
            .expect_err("not a UUID");
        assert_eq!(refused.code(), Code::InvalidArgument);
        reporting.get_ingestion_status(pb::GetIngestionStatusRequest::default()).await.expect("status");

        let records = trail(&mut reporting).await;
        assert_eq!(records.len(), 2, "{}: {records:?}", database.backend);
        assert_eq!((records[0].rpc.as_str(), records[0].action()), (REBUILD, Action::Mutation));
        assert_eq!(records[0].identity, "spiffe://motcua/staff/thong-ke");
        assert_eq!(records[0].request_id, request_id);
        assert_eq!(records[0].subjects, vec![format!("rebuilds/{}", started.rebuild_id)]);
        assert_eq!(records[0].status_code, 0);
        assert_eq!((records[1].status_code, records[1].error_reason.as_str()), (3, "INVALID_REQUEST_ID"));
        assert_eq!(records[1].identity, "spiffe://motcua/dev/anonymous");
        assert!(records[0].sequence < records[1].sequence);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_call_the_policy_does_not_grant_is_recorded_as_denied() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-reporting-audit-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy = folder.join("policy.yaml");
        std::fs::write(
            &policy,
            "identities:\n  agency/auditor:\n    rpcs: [\"motcua.reporting.v1.ReportingService/ListAuditRecords\"]\n",
        )
        .expect("written");
        let mut config = ServiceConfig::for_local(ServiceKind::Reporting, database.url.clone());
        config.policy_file = Some(policy);
        let server = start_service_with::<Reporting>(config).await;
        let mut reporting = ReportingServiceClient::connect(format!("http://{}", server.local_addr)).await.expect("up");

        let refused = reporting
            .get_summary(as_identity("agency/so-y-te", pb::GetSummaryRequest::default()))
            .await
            .expect_err("not granted");
        assert_eq!(refused.code(), Code::PermissionDenied);
        let records = reporting
            .list_audit_records(as_identity("agency/auditor", pb::ListAuditRecordsRequest::default()))
            .await
            .expect("the auditor reads")
            .into_inner()
            .audit_records;
        assert_eq!(records.len(), 1, "{}: {records:?}", database.backend);
        assert_eq!(records[0].action(), Action::Denied);
        assert_eq!(records[0].rpc, "/motcua.reporting.v1.ReportingService/GetSummary");
        assert_eq!(records[0].identity, "spiffe://motcua/agency/so-y-te");
        assert_eq!((records[0].status_code, records[0].error_reason.as_str()), (7, "RPC_NOT_ALLOWED"));
        server.stop().await.expect("clean stop");
        let _ = std::fs::remove_dir_all(folder);
    })
    .await;
}
