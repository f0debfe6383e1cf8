//! Reporting under mutual TLS with the shipped policy (deploy/k8s/base/policy.yaml): its reports name
//! the branches as intake's catalogue does. A policy that does not grant `service/reporting` intake's
//! `ListBranches` is no longer silent: the refusal shows in `GetIngestionStatus`.

use motcua_chassis::ServiceKind;
use motcua_proto::motcua::{
    common::v1::Channel,
    intake::v1::intake_service_client::IntakeServiceClient,
    reporting::v1::{self as reporting_pb, reporting_service_client::ReportingServiceClient},
};
use motcua_reporting::settings::{ENV_REPORTING_INTAKE_URL, ENV_REPORTING_RECEIPT_URL, ENV_REPORTING_SIGNING_URL};
use motcua_testkit::{
    TestDatabase,
    calendar::around_today,
    dossiers::{create, filing},
    pki::Pki,
    start_service_with,
    wait::{eventually, free_loopback_address},
};

/// The policy shipped for production; the trial overlay's grants the services the same.
const SHIPPED_POLICY: &str = include_str!("../../../deploy/k8s/base/policy.yaml");
const LIST_BRANCHES_GRANT: &str = "      - motcua.intake.v1.IntakeService/ListBranches\n";

#[tokio::test]
async fn reporting_under_mutual_tls_with_the_shipped_policy_names_the_branches() {
    assert!(SHIPPED_POLICY.contains(LIST_BRANCHES_GRANT), "the shipped policy grants reporting ListBranches");
    let pki = Pki::new();
    let (intake_database, reporting_database) = (TestDatabase::sqlite(), TestDatabase::sqlite());
    // First without the grant, as the policy shipped before: the refusal must show.
    let policy = pki.write("policy.yaml", &SHIPPED_POLICY.replace(LIST_BRANCHES_GRANT, ""));
    let intake = start_service_with::<motcua_intake::Intake>(pki.service_config(
        ServiceKind::Intake,
        &intake_database.url,
        &policy,
    ))
    .await;
    let mut config = pki.service_config(ServiceKind::Reporting, &reporting_database.url, &policy);
    config
        .service_variables
        .insert(ENV_REPORTING_INTAKE_URL, format!("https://localhost:{}", intake.local_addr.port()));
    // Signing and receipt are not part of this test: their followers retry in the background.
    for variable in [ENV_REPORTING_SIGNING_URL, ENV_REPORTING_RECEIPT_URL] {
        config.service_variables.insert(variable, format!("https://localhost:{}", free_loopback_address().port()));
    }
    let reporting = start_service_with::<motcua_reporting::Reporting>(config).await;

    let staff = pki.issue(Some("staff/counter"), &[], false);
    let channel = |port| pki.channel(port, "localhost", Some(staff.clone()));
    let mut intake_client = IntakeServiceClient::new(channel(intake.local_addr.port()).await.expect("TLS"));
    let mut reporting_client = ReportingServiceClient::new(channel(reporting.local_addr.port()).await.expect("TLS"));
    let filing = filing(&mut intake_client, "CN01", Channel::InPerson, "001099000001").await;
    create(&mut intake_client, filing).await;

    let stats = |mut client: ReportingServiceClient<tonic::transport::Channel>| async move {
        let request = reporting_pb::ListBranchStatsRequest { period: Some(around_today()), ..Default::default() };
        client.list_branch_stats(request).await.expect("branch stats").into_inner().branch_stats
    };
    eventually("reporting counts the dossier intake's feed carries", || {
        let client = reporting_client.clone();
        async move { stats(client).await.iter().any(|row| row.branch_code == "CN01") }
    })
    .await;
    let status = reporting_client
        .get_ingestion_status(reporting_pb::GetIngestionStatusRequest {})
        .await
        .expect("ingestion status")
        .into_inner()
        .branch_names
        .expect("the branch names' status");
    assert_eq!(status.last_error_reason, "RPC_NOT_ALLOWED", "the refusal is visible: {status:?}");
    assert!(status.last_error_time.is_some());

    // The shipped policy: intake re-reads it, and the next report names the branch.
    pki.write("policy.yaml", SHIPPED_POLICY);
    eventually("reporting names CN01 as intake's catalogue does", || {
        let client = reporting_client.clone();
        async move {
            stats(client)
                .await
                .iter()
                .any(|row| row.branch_code == "CN01" && row.branch_name.starts_with("Chi nhánh số 1"))
        }
    })
    .await;
    let status = reporting_client
        .get_ingestion_status(reporting_pb::GetIngestionStatusRequest {})
        .await
        .expect("ingestion status")
        .into_inner()
        .branch_names
        .expect("the branch names' status");
    assert_eq!(status.last_error_reason, "", "no error once intake answers: {status:?}");
    assert!(status.known_branches > 0);
    reporting.stop().await.expect("clean stop");
    intake.stop().await.expect("clean stop");
}
