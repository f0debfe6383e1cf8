//! Who may call what: intake under mutual TLS with a policy file, callers identified by their client
//! certificates. A call without a certificate fails, an expired certificate is refused, an identity
//! the policy does not name is denied everything, an agency cannot read another agency's dossier, and
//! a caller over its rate is told to retry later.

use std::path::{Path, PathBuf};

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::TlsFiles,
    testing::{TestDatabase, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, Citizen, CopyKind, applicant::Kind},
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType, date_time_ymd};
use tonic::{
    Code,
    transport::{Certificate, Channel as GrpcChannel, ClientTlsConfig, Endpoint, Identity},
};
use tonic_types::StatusExt;

const PROCEDURE: &str = "1.012822";

/// A throw-away CA issuing the server's and the callers' certificates, written to a folder.
struct Pki {
    folder: PathBuf,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let folder = std::env::temp_dir().join(format!("motcua-pki-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&folder).expect("pki folder");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&key).expect("CA certificate");
        let ca_pem = ca.pem();
        std::fs::write(folder.join("ca.pem"), &ca_pem).expect("write CA");
        Self { folder, ca_pem, issuer: Issuer::new(params, key) }
    }

    /// A certificate for `identity` (a spiffe URI SAN) and `dns` names; expired when `expired`.
    fn issue(&self, identity: Option<&str>, dns: &[&str], expired: bool) -> (String, String) {
        let mut params =
            CertificateParams::new(dns.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>()).expect("params");
        if let Some(identity) = identity {
            params
                .subject_alt_names
                .push(SanType::URI(format!("spiffe://motcua/{identity}").try_into().expect("an IA5 URI")));
        }
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().expect("key");
        let certificate = params.signed_by(&key, &self.issuer).expect("issued");
        (certificate.pem(), key.serialize_pem())
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.folder.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn free_loopback_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port")
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()
}

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
    start_intake_with_probe(pki, database, policy, rate, free_loopback_address()).await
}

async fn start_intake_with_probe(
    pki: &Pki,
    database: &TestDatabase,
    policy: &Path,
    rate: u32,
    probe: std::net::SocketAddr,
) -> motcua_chassis::server::RunningServer {
    let (cert, key) = pki.issue(Some("service/intake"), &["localhost"], false);
    let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
    config.dev_identity = false;
    config.tls = Some(TlsFiles {
        cert: pki.write("server.pem", &cert),
        key: pki.write("server.key", &key),
        client_ca: pki.folder.join("ca.pem"),
    });
    config.policy_file = Some(policy.to_owned());
    config.rate_limit_per_identity = rate;
    config.health_listen_addr = Some(probe);
    start_service_with::<motcua_intake::Intake>(config).await
}

async fn connect(
    pki: &Pki,
    port: u16,
    client: Option<(String, String)>,
) -> Result<IntakeServiceClient<GrpcChannel>, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca_pem)).domain_name("localhost");
    if let Some((cert, key)) = client {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Endpoint::from_shared(format!("https://localhost:{port}"))?.tls_config(tls)?.connect().await?;
    Ok(IntakeServiceClient::new(channel))
}

async fn file(intake: &mut IntakeServiceClient<GrpcChannel>, request_id: &str) -> Result<pb::Dossier, tonic::Status> {
    let procedure = intake
        .get_procedure(pb::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
        .await?
        .into_inner();
    let components = procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| pb::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            ..Default::default()
        })
        .collect();
    let request = pb::CreateDossierRequest {
        request_id: request_id.to_owned(),
        branch_code: "CN01".to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: Channel::Online as i32,
        applicant: Some(Applicant {
            kind: Some(Kind::Citizen(Citizen {
                identity_number: "001099012345".to_owned(),
                full_name: "Đỗ Minh Khoa".to_owned(),
                ..Default::default()
            })),
        }),
        receiving_officer: Some(pb::Officer { officer_id: "CB030".to_owned(), ..Default::default() }),
        components,
    };
    Ok(intake.create_dossier(request).await?.into_inner().dossier.unwrap_or_default())
}

#[tokio::test]
async fn only_identified_callers_reach_intake_and_each_agency_sees_its_own_dossiers() {
    let pki = Pki::new();
    let database = TestDatabase::sqlite();
    let policy = pki.write("policy.yaml", POLICY);
    let config_probe = free_loopback_address();
    let server = start_intake_with_probe(&pki, &database, &policy, 1000, config_probe).await;
    let port = server.local_addr.port();

    // Kubernetes' probes speak plaintext without a certificate: the health port answers them.
    let probe_channel = Endpoint::from_shared(format!("http://{config_probe}"))
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
