//! A caller the policy limits to some branches reads, lists, renders and reports on receipts of those
//! branches only, on SQLite and PostgreSQL: another branch's receipt is PERMISSION_DENIED
//! (BRANCH_NOT_ALLOWED), and listings and usage reports leave other branches out.

mod common;

use common::issue_request;
use motcua_proto::{google::r#type::Date, motcua::receipt::v1 as pb};
use motcua_testkit::{
    as_identity,
    calendar::this_year,
    clients, on_every_database,
    policy::PolicyFile,
    request_id,
    services::{UNREACHABLE, receipt_config},
    start_service_with,
    status::assert_branch_refused,
};

const BRANCH_OFFICER: &str = "staff/thu-ngan-cn01";

#[tokio::test]
async fn a_branch_officer_sees_only_the_receipts_of_its_branch() {
    on_every_database(|database| async move {
        let policy = PolicyFile::write(&format!(
            "identities:\n  service/intake:\n    rpcs: [\"*\"]\n  {BRANCH_OFFICER}:\n    rpcs: [\"motcua.receipt.v1.ReceiptService/*\"]\n    branches: [\"CN01\"]\n"
        ));
        let mut config = receipt_config(&database, UNREACHABLE);
        config.policy_file = Some(policy.path().to_owned());
        let server = start_service_with::<motcua_receipt::Receipt>(config).await;
        let mut receipt = clients::receipt(server.local_addr).await;

        // The center's intake issues in both branches.
        let mut series = Vec::new();
        for branch in ["CN01", "CN02"] {
            let request = pb::CreateSeriesRequest {
                request_id: request_id(),
                series_id: String::new(),
                branch_code: branch.to_owned(),
                year: this_year(),
                kind: pb::ReceiptKind::FeeReceipt as i32,
                template_symbol: "01BLP0-001".to_owned(),
                series_symbol: format!("{branch}-25E"),
            };
            let created = receipt.create_series(as_identity("service/intake", request)).await.expect("created");
            series.push(created.into_inner().series.expect("a series"));
        }
        let mut issued = Vec::new();
        for one in &series {
            let request = issue_request(one, &format!("dossier-{}", one.branch_code));
            let answer = receipt.issue_receipt(as_identity("service/intake", request)).await.expect("issued");
            issued.push(answer.into_inner().receipt.expect("a receipt"));
        }
        let (own, other) = (&issued[0], &issued[1]);

        let read = receipt
            .get_receipt(as_identity(BRANCH_OFFICER, pb::GetReceiptRequest { name: own.name.clone() }))
            .await
            .expect("its own branch's receipt");
        assert_eq!(read.into_inner().number, own.number);
        let refused = receipt
            .get_receipt(as_identity(BRANCH_OFFICER, pb::GetReceiptRequest { name: other.name.clone() }))
            .await
            .expect_err("another branch's receipt");
        assert_branch_refused(&refused);
        let refused = receipt
            .render_receipt(as_identity(
                BRANCH_OFFICER,
                pb::RenderReceiptRequest { name: other.name.clone(), format: pb::RenderFormat::Xml as i32 },
            ))
            .await
            .expect_err("another branch's rendering");
        assert_branch_refused(&refused);

        let listed = receipt
            .list_receipts(as_identity(BRANCH_OFFICER, pb::ListReceiptsRequest::default()))
            .await
            .expect("a listing")
            .into_inner()
            .receipts;
        assert_eq!(listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec![own.name.as_str()], "{}", database.backend);
        let everything = receipt
            .list_receipts(as_identity("service/intake", pb::ListReceiptsRequest::default()))
            .await
            .expect("a listing")
            .into_inner()
            .receipts;
        assert_eq!(everything.len(), 2, "an unrestricted caller lists every branch");

        let (year, today) = (this_year(), motcua_chassis::clock::Clock::system().now() + chrono::Duration::hours(7));
        let period = |branch_code: &str| pb::GetUsageReportRequest {
            start_date: Some(Date { year, month: 1, day: 1 }),
            end_date: Some(Date {
                year,
                month: chrono::Datelike::month(&today) as i32,
                day: chrono::Datelike::day(&today) as i32,
            }),
            branch_code: branch_code.to_owned(),
            ..Default::default()
        };
        let report =
            receipt.get_usage_report(as_identity(BRANCH_OFFICER, period(""))).await.expect("a report").into_inner();
        let branches: Vec<&str> = report.series_usage.iter().map(|usage| usage.branch_code.as_str()).collect();
        assert_eq!(branches, vec!["CN01"], "the report leaves other branches out");
        let refused = receipt.get_usage_report(as_identity(BRANCH_OFFICER, period("CN02"))).await.expect_err("CN02");
        assert_branch_refused(&refused);
        server.stop().await.expect("clean stop");
    })
    .await;
}
