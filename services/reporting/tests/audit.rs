//! Reporting's audit trail over real gRPC, on SQLite and PostgreSQL: reporting holds counts and no
//! personal data, so its trail shows its one mutation, the rebuild, answered or refused, and the calls
//! queries are not recorded. How the trail filters, pages and records refusals is the chassis's, tested
//! once (intake's tests/audit.rs).

use motcua_chassis::testing::{TrailReader, as_identity, on_every_database, start_service};
use motcua_proto::motcua::{
    audit::v1::audit_record::Action,
    reporting::v1::{self as pb, reporting_service_client::ReportingServiceClient},
};
use motcua_reporting::Reporting;
use tonic::Code;

const REBUILD: &str = "/motcua.reporting.v1.ReportingService/RebuildProjections";

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

        let records = TrailReader::connect(server.local_addr).await.all().await;
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
