//! A caller the policy limits to some branches gets the figures of those branches only: a summary, a
//! service index or an export of another branch, or of the whole center, is PERMISSION_DENIED
//! (BRANCH_NOT_ALLOWED); of its own branch, answered. An unrestricted caller sees the whole center.

use motcua_chassis::{ServiceConfig, ServiceKind};
use motcua_proto::{google::r#type::Date, motcua::reporting::v1 as pb};
use motcua_reporting::Reporting;
use motcua_testkit::{
    TestDatabase, as_identity, clients, policy::PolicyFile, start_service_with, status::assert_branch_refused,
};
use tokio_stream::StreamExt;

const BRANCH_LEADER: &str = "staff/lanh-dao-cn01";

fn march() -> Option<pb::Period> {
    Some(pb::Period {
        kind: pb::PeriodKind::Month as i32,
        date: Some(Date { year: 2026, month: 3, day: 1 }),
        end_date: None,
    })
}

#[tokio::test]
async fn a_branch_leader_sees_its_branch_figures_and_not_another_branch_nor_the_whole_center() {
    let database = TestDatabase::sqlite();
    let policy = PolicyFile::write(&format!(
        "identities:\n  staff/thong-ke:\n    rpcs: [\"*\"]\n  {BRANCH_LEADER}:\n    rpcs: [\"motcua.reporting.v1.ReportingService/*\"]\n    branches: [\"CN01\"]\n"
    ));
    let mut config = ServiceConfig::for_local(ServiceKind::Reporting, database.url.clone());
    config.policy_file = Some(policy.path().to_owned());
    let server = start_service_with::<Reporting>(config).await;
    let mut reporting = clients::reporting(server.local_addr).await;

    let summary = |branch_code: &str| pb::GetSummaryRequest {
        period: march(),
        branch_code: branch_code.to_owned(),
        ..Default::default()
    };
    reporting.get_summary(as_identity(BRANCH_LEADER, summary("CN01"))).await.expect("its own branch");
    assert_branch_refused(&reporting.get_summary(as_identity(BRANCH_LEADER, summary("CN02"))).await.expect_err("CN02"));
    assert_branch_refused(
        &reporting.get_summary(as_identity(BRANCH_LEADER, summary(""))).await.expect_err("the center"),
    );
    reporting.get_summary(as_identity("staff/thong-ke", summary(""))).await.expect("the center's statistician");

    let index = |branch_code: &str| pb::GetServiceIndexRequest { period: march(), branch_code: branch_code.to_owned() };
    reporting.get_service_index(as_identity(BRANCH_LEADER, index("CN01"))).await.expect("its own branch");
    assert_branch_refused(
        &reporting.get_service_index(as_identity(BRANCH_LEADER, index("CN02"))).await.expect_err("CN02"),
    );

    let export = |branch_code: &str| pb::ExportReportRequest {
        kind: pb::ReportKind::BranchStats as i32,
        period: march(),
        branch_code: branch_code.to_owned(),
        ..Default::default()
    };
    assert_branch_refused(
        &reporting.export_report(as_identity(BRANCH_LEADER, export(""))).await.expect_err("the center"),
    );
    let mut stream =
        reporting.export_report(as_identity(BRANCH_LEADER, export("CN01"))).await.expect("its own branch").into_inner();
    while let Some(chunk) = stream.next().await {
        chunk.expect("a chunk of its branch's export");
    }
    server.stop().await.expect("clean stop");
}
