//! Who may call what: the four services under mutual TLS with a policy file, callers identified by
//! their client certificates. A call without a certificate fails, an expired certificate is refused,
//! an identity the policy does not name is denied everything on every service, an agency cannot read
//! another agency's dossier, and a caller over its rate or its open calls is told to retry later
//! while others are served. Revocation and certificate reloading: security_tls.rs.

use std::path::Path;

use motcua_chassis::ServiceKind;
use motcua_proto::motcua::{
    audit::v1::{self as audit_pb, audit_service_client::AuditServiceClient},
    common::v1::Channel,
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
    receipt::v1::{self as receipt_pb, receipt_service_client::ReceiptServiceClient},
    reporting::v1::{self as reporting_pb, reporting_service_client::ReportingServiceClient},
    signing::v1::{self as signing_pb, signing_service_client::SigningServiceClient},
};
use motcua_testkit::{
    TestDatabase, clients,
    dossiers::filing,
    people::actor,
    pki::{Issued, Pki},
    start_service_with,
    wait::eventually,
};
use tonic::Code;
use tonic_types::StatusExt;

const POLICY: &str = r#"
identities:
  agency/so-tu-phap:
    rpcs: ["motcua.intake.v1.IntakeService/*"]
    procedures: ["1.001193"]
  agency/so-y-te:
    rpcs: ["motcua.intake.v1.IntakeService/*"]
    procedures: ["1.001193"]
"#;

async fn start_intake(
    pki: &Pki,
    database: &TestDatabase,
    policy: &Path,
    rate: u32,
) -> motcua_chassis::server::RunningServer {
    let mut config = pki.service_config(ServiceKind::Intake, &database.url, policy);
    config.rate_limit_per_identity = rate;
    start_service_with::<motcua_intake::Intake>(config).await
}

async fn connect(pki: &Pki, port: u16, client: Option<Issued>) -> Result<clients::Intake, tonic::transport::Error> {
    Ok(IntakeServiceClient::new(pki.channel(port, "localhost", client).await?))
}

async fn file(intake: &mut clients::Intake, request_id: &str) -> Result<pb::Dossier, tonic::Status> {
    let mut request = filing(intake, "CN01", Channel::Online, "001099012345").await;
    request.request_id = request_id.to_owned();
    request.receiving_officer = actor("CB030");
    Ok(intake.create_dossier(request).await?.into_inner().dossier.unwrap_or_default())
}

#[tokio::test]
async fn only_identified_callers_reach_intake_and_each_agency_sees_its_own_dossiers() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let policy = pki.write("policy.yaml", POLICY);
    let mut config = pki.service_config(ServiceKind::Intake, &database.url, &policy);
    let config_probe = config.health_listen_addr.expect("a probe port");
    config.rate_limit_per_identity = 1000;
    let server = start_service_with::<motcua_intake::Intake>(config).await;
    let port = server.local_addr.port();

    // Kubernetes' probes speak plaintext without a certificate: the health port answers them.
    let probe_channel = tonic::transport::Endpoint::from_shared(format!("http://{config_probe}"))
        .expect("url")
        .connect()
        .await
        .expect("probe port answers");
    let health = tonic_health::pb::health_client::HealthClient::new(probe_channel)
        .check(tonic_health::pb::HealthCheckRequest { service: "motcua.intake.v1.IntakeService".to_owned() })
        .await
        .expect("health over plaintext")
        .into_inner();
    assert_eq!(health.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);

    // No client certificate: the handshake fails, or the call does.
    match connect(&pki, port, None).await {
        Err(_) => {}
        Ok(mut anonymous) => {
            let outcome = anonymous.list_branches(pb::ListBranchesRequest::default()).await;
            assert!(outcome.is_err(), "a call without a client certificate must fail");
        }
    }

    // An expired certificate is refused.
    let expired = pki.issue(Some("agency/so-tu-phap"), &[], true);
    match connect(&pki, port, Some(expired)).await {
        Err(_) => {}
        Ok(mut client) => assert!(
            client.list_branches(pb::ListBranchesRequest::default()).await.is_err(),
            "an expired certificate must be refused"
        ),
    }

    // An identity the policy does not name is denied everything.
    let stranger = connect(&pki, port, Some(pki.issue(Some("agency/so-la"), &[], false))).await.expect("TLS connects");
    let status =
        stranger.clone().list_branches(pb::ListBranchesRequest::default()).await.expect_err("not in the policy");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "RPC_NOT_ALLOWED");

    // Agency A files a dossier; agency B cannot read it, agency A can.
    let mut agency_a =
        connect(&pki, port, Some(pki.issue(Some("agency/so-tu-phap"), &[], false))).await.expect("TLS connects");
    let mut agency_b =
        connect(&pki, port, Some(pki.issue(Some("agency/so-y-te"), &[], false))).await.expect("TLS connects");
    let dossier = file(&mut agency_a, "security-1").await.expect("agency A files");
    assert_eq!(dossier.submitter_identity, "agency/so-tu-phap");
    let status =
        agency_b.get_dossier(pb::GetDossierRequest { name: dossier.name.clone(), view: 0 }).await.expect_err("not B's");
    assert_eq!(status.code(), Code::PermissionDenied);
    agency_a.get_dossier(pb::GetDossierRequest { name: dossier.name.clone(), view: 0 }).await.expect("A reads its own");
    let listed_by_b = agency_b.list_dossiers(pb::ListDossiersRequest::default()).await.expect("B lists").into_inner();
    assert!(listed_by_b.dossiers.is_empty(), "B's listing shows none of A's dossiers");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_caller_over_its_rate_is_told_to_retry_later() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let policy = pki.write("policy.yaml", POLICY);
    let server = start_intake(&pki, &database, &policy, 2).await;
    let mut agency = connect(&pki, server.local_addr.port(), Some(pki.issue(Some("agency/so-tu-phap"), &[], false)))
        .await
        .expect("TLS connects");
    let mut refused = None;
    // The bucket holds twice the rate: the fifth call within a second at the latest is refused.
    for _ in 0..10 {
        if let Err(status) = agency.list_branches(pb::ListBranchesRequest::default()).await {
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("a call over the rate is refused");
    assert_eq!(status.code(), Code::ResourceExhausted);
    let details = status.get_error_details();
    assert_eq!(details.error_info().expect("ErrorInfo").reason, "RATE_LIMITED");
    assert!(details.retry_info().is_some(), "RetryInfo says when to retry");
    server.stop().await.expect("clean stop");
}

/// Asserts that `outcome` is PERMISSION_DENIED with reason RPC_NOT_ALLOWED.
fn assert_not_allowed<T: std::fmt::Debug>(rpc: &str, outcome: Result<T, tonic::Status>) {
    let status = outcome.expect_err(rpc);
    assert_eq!(status.code(), Code::PermissionDenied, "{rpc}: {status:?}");
    assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "RPC_NOT_ALLOWED", "{rpc}");
}

#[tokio::test]
async fn an_identity_the_policy_does_not_name_is_denied_everything_on_every_service() {
    let pki = Pki::new();
    let policy = pki.write("policy.yaml", POLICY);
    let databases = [TestDatabase::sqlite(), TestDatabase::sqlite(), TestDatabase::sqlite(), TestDatabase::sqlite()];
    let config = |kind: ServiceKind, database: &TestDatabase| pki.service_config(kind, &database.url, &policy);
    let intake = start_service_with::<motcua_intake::Intake>(config(ServiceKind::Intake, &databases[0])).await;
    let signing = start_service_with::<motcua_signing::Signing>(config(ServiceKind::Signing, &databases[1])).await;
    let receipt = start_service_with::<motcua_receipt::Receipt>(config(ServiceKind::Receipt, &databases[2])).await;
    let reporting =
        start_service_with::<motcua_reporting::Reporting>(config(ServiceKind::Reporting, &databases[3])).await;
    let stranger = || Some(pki.issue(Some("agency/so-la"), &[], false));
    let channel =
        |server: &motcua_chassis::server::RunningServer| pki.channel(server.local_addr.port(), "localhost", stranger());

    let mut intake_client = IntakeServiceClient::new(channel(&intake).await.expect("TLS connects"));
    assert_not_allowed("ListProcedures", intake_client.list_procedures(pb::ListProceduresRequest::default()).await);
    assert_not_allowed("GetDossier", intake_client.get_dossier(pb::GetDossierRequest::default()).await);
    assert_not_allowed("CreateDossier", intake_client.create_dossier(pb::CreateDossierRequest::default()).await);
    assert_not_allowed("WatchEvents", intake_client.watch_events(pb::WatchEventsRequest::default()).await);
    let mut audit_client = AuditServiceClient::new(channel(&intake).await.expect("TLS connects"));
    assert_not_allowed(
        "ListAuditRecords",
        audit_client.list_audit_records(audit_pb::ListAuditRecordsRequest::default()).await,
    );

    let mut signing_client = SigningServiceClient::new(channel(&signing).await.expect("TLS connects"));
    assert_not_allowed(
        "ListCertificateAuthorities",
        signing_client.list_certificate_authorities(signing_pb::ListCertificateAuthoritiesRequest::default()).await,
    );
    assert_not_allowed("Sign", signing_client.sign(signing_pb::SignRequest::default()).await);
    assert_not_allowed("GetCrl", signing_client.get_crl(signing_pb::GetCrlRequest::default()).await);
    assert_not_allowed(
        "GetCheckpoint",
        signing_client.get_checkpoint(signing_pb::GetCheckpointRequest::default()).await,
    );
    assert_not_allowed("WatchEvents", signing_client.watch_events(signing_pb::WatchEventsRequest::default()).await);

    let mut receipt_client = ReceiptServiceClient::new(channel(&receipt).await.expect("TLS connects"));
    assert_not_allowed("ListSeries", receipt_client.list_series(receipt_pb::ListSeriesRequest::default()).await);
    assert_not_allowed("IssueReceipt", receipt_client.issue_receipt(receipt_pb::IssueReceiptRequest::default()).await);
    assert_not_allowed(
        "LookupReceipt",
        receipt_client.lookup_receipt(receipt_pb::LookupReceiptRequest::default()).await,
    );
    assert_not_allowed(
        "GetUsageReport",
        receipt_client.get_usage_report(receipt_pb::GetUsageReportRequest::default()).await,
    );

    let mut reporting_client = ReportingServiceClient::new(channel(&reporting).await.expect("TLS connects"));
    assert_not_allowed("GetSummary", reporting_client.get_summary(reporting_pb::GetSummaryRequest::default()).await);
    assert_not_allowed(
        "ListBranchStats",
        reporting_client.list_branch_stats(reporting_pb::ListBranchStatsRequest::default()).await,
    );
    assert_not_allowed(
        "ExportReport",
        reporting_client.export_report(reporting_pb::ExportReportRequest::default()).await,
    );
    assert_not_allowed(
        "RebuildProjections",
        reporting_client.rebuild_projections(reporting_pb::RebuildProjectionsRequest::default()).await,
    );

    for server in [intake, signing, receipt, reporting] {
        server.stop().await.expect("clean stop");
    }
}

#[tokio::test]
async fn an_identity_with_every_slot_open_is_told_to_retry_while_another_is_served() {
    const FOLLOWERS: &str = r#"
identities:
  service/reporting:
    rpcs: ["motcua.intake.v1.IntakeService/*"]
  staff/cn01:
    rpcs: ["motcua.intake.v1.IntakeService/*"]
"#;
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let policy = pki.write("policy.yaml", FOLLOWERS);
    let mut config = pki.service_config(ServiceKind::Intake, &database.url, &policy);
    config.concurrency_per_identity = 2;
    let server = start_service_with::<motcua_intake::Intake>(config).await;
    let port = server.local_addr.port();
    let mut follower = connect(&pki, port, Some(pki.issue(Some("service/reporting"), &[], false))).await.expect("TLS");
    let mut staff = connect(&pki, port, Some(pki.issue(Some("staff/cn01"), &[], false))).await.expect("TLS");

    // Two open streams: each holds one of the follower's two slots from its headers until it ends.
    let first = follower.watch_events(pb::WatchEventsRequest::default()).await.expect("first stream opens");
    let second = follower.watch_events(pb::WatchEventsRequest::default()).await.expect("second stream opens");

    let status = follower.list_branches(pb::ListBranchesRequest::default()).await.expect_err("every slot is open");
    assert_eq!(status.code(), Code::ResourceExhausted);
    let details = status.get_error_details();
    assert_eq!(details.error_info().expect("ErrorInfo").reason, "CONCURRENCY_LIMITED");
    assert!(details.retry_info().is_some(), "RetryInfo says when to retry");
    staff.list_branches(pb::ListBranchesRequest::default()).await.expect("another identity is served meanwhile");

    // A stream the caller drops frees its slot once the server sees it go.
    drop(first);
    eventually("a dropped stream frees its slot", || {
        let mut follower = follower.clone();
        async move { follower.list_branches(pb::ListBranchesRequest::default()).await.is_ok() }
    })
    .await;
    drop(second);
    server.stop().await.expect("clean stop");
}
