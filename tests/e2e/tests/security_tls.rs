//! Mutual TLS that follows its files: a revoked client certificate is refused at the handshake, and a
//! certificate rotated or a CRL published on disk applies to new connections without a restart.

use std::time::Duration;

use motcua_chassis::{ServiceConfig, ServiceKind, server::RunningServer};
use motcua_proto::motcua::intake::v1::{self as pb, intake_service_client::IntakeServiceClient};
use motcua_testkit::{
    TestDatabase,
    pki::{Issued, Pki},
    start_service_with,
    wait::eventually,
};

const POLICY: &str = r#"
identities:
  agency/so-tu-phap:
    rpcs: ["motcua.intake.v1.IntakeService/*"]
"#;

/// Intake under mutual TLS that re-reads its TLS files every 50 ms, revoking what `crl` revokes.
async fn start_intake(pki: &Pki, database: &TestDatabase, crl: Option<&str>) -> (RunningServer, ServiceConfig) {
    let policy = pki.write("policy.yaml", POLICY);
    let mut config = pki.service_config(ServiceKind::Intake, &database.url, &policy);
    config.tls_reload_interval = Duration::from_millis(50);
    if let (Some(files), Some(crl)) = (config.tls.as_mut(), crl) {
        files.client_crl = Some(pki.write("client.crl", crl));
    }
    (start_service_with::<motcua_intake::Intake>(config.clone()).await, config)
}

/// Whether a new connection that expects the server to be `server_name`, presenting `client`, is
/// served a call.
async fn served(pki: &Pki, server: &RunningServer, server_name: &str, client: Issued) -> bool {
    let Ok(channel) = pki.channel(server.local_addr.port(), server_name, Some(client)).await else {
        return false;
    };
    // Under TLS 1.3 the client's certificate is judged after the client thinks the handshake done:
    // a refusal can surface at the first call rather than at connect.
    IntakeServiceClient::new(channel).list_branches(pb::ListBranchesRequest::default()).await.is_ok()
}

#[tokio::test]
async fn a_revoked_client_certificate_is_refused_and_its_neighbours_are_served() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let (server, _) = start_intake(&pki, &database, Some(&pki.crl(1, &[1001]))).await;
    let revoked = pki.issue_serial("agency/so-tu-phap", 1001);
    let valid = pki.issue_serial("agency/so-tu-phap", 1002);
    assert!(!served(&pki, &server, "localhost", revoked).await, "a revoked certificate fails the handshake");
    assert!(served(&pki, &server, "localhost", valid).await, "one the CRL does not list is served");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_crl_published_on_disk_refuses_new_connections_without_a_restart() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let (server, _) = start_intake(&pki, &database, Some(&pki.crl(1, &[]))).await;
    let soon_revoked = pki.issue_serial("agency/so-tu-phap", 2001);
    let kept = pki.issue_serial("agency/so-tu-phap", 2002);
    assert!(served(&pki, &server, "localhost", soon_revoked.clone()).await, "not revoked yet");

    pki.write("client.crl", &pki.crl(2, &[2001]));
    eventually("the new CRL refuses the revoked certificate", || {
        let certificate = soon_revoked.clone();
        let pki = &pki;
        let server = &server;
        async move { !served(pki, server, "localhost", certificate).await }
    })
    .await;
    assert!(served(&pki, &server, "localhost", kept).await, "a certificate the CRL does not list is still served");

    // A CRL that no longer parses is reported; the one in force stays.
    pki.write("client.crl", "-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!served(&pki, &server, "localhost", soon_revoked).await, "still revoked under the CRL in force");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_server_certificate_rotated_on_disk_is_presented_to_new_connections() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let (server, config) = start_intake(&pki, &database, None).await;
    let caller = || pki.issue(Some("agency/so-tu-phap"), &[], false);
    let channel = pki.channel(server.local_addr.port(), "localhost", Some(caller())).await.expect("TLS connects");
    let mut before_rotation = IntakeServiceClient::new(channel);
    before_rotation.list_branches(pb::ListBranchesRequest::default()).await.expect("served");
    assert!(!served(&pki, &server, "rotated.localhost", caller()).await, "the first certificate names localhost only");

    // The rotated certificate names another host, so which one the server presents shows.
    let files = config.tls.as_ref().expect("mutual TLS");
    let (cert, key) = pki.issue(Some("service/intake"), &["rotated.localhost"], false);
    pki.write(files.key.file_name().and_then(|name| name.to_str()).expect("a file name"), &key);
    pki.write(files.cert.file_name().and_then(|name| name.to_str()).expect("a file name"), &cert);
    eventually("new connections see the rotated certificate", || served(&pki, &server, "rotated.localhost", caller()))
        .await;
    assert!(!served(&pki, &server, "localhost", caller()).await, "the old certificate is no longer presented");
    before_rotation.list_branches(pb::ListBranchesRequest::default()).await.expect("an open connection keeps going");
    server.stop().await.expect("clean stop");
}
