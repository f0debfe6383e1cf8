//! What the signing tests share: a client, a deployment (root, a branch's intermediate, an officer, a
//! leader and the branch seal), reading an error's reason, waiting for the log's checkpoint, the
//! independent log verifier and the OpenSSL CLI.

#![allow(dead_code)]

pub mod openssl;
pub mod verifier;

use std::{net::SocketAddr, time::Duration};

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    server::RunningServer,
    testing::{TestDatabase, start_service_with},
};
use motcua_proto::motcua::signing::v1::{self as pb, signing_service_client::SigningServiceClient};
use motcua_signing::Signing;
use motcua_signing::settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// The key-encryption secret the tests configure.
pub const TEST_SECRET: &str = "test key-encryption secret, long and random in production";

/// A signing client.
pub type Client = SigningServiceClient<Channel>;

/// Starts signing on `database` with the test secret.
pub async fn start(database: &TestDatabase) -> RunningServer {
    let mut config = ServiceConfig::for_local(ServiceKind::Signing, database.url.clone());
    config.service_variables.insert(ENV_SIGNING_KEY_ENCRYPTION_SECRET, TEST_SECRET.to_owned());
    start_service_with::<Signing>(config).await
}

/// A client of the service at `addr`.
pub async fn client(addr: SocketAddr) -> Client {
    SigningServiceClient::connect(format!("http://{addr}")).await.expect("signing answers")
}

/// Another empty database on the same backend as `database`: a second deployment that shares nothing
/// with the first.
pub async fn another_database(database: &TestDatabase) -> TestDatabase {
    match database.backend {
        "postgres" => TestDatabase::postgres().await.expect("PostgreSQL answered a moment ago"),
        _ => TestDatabase::sqlite(),
    }
}

/// A fresh request id.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The ErrorInfo reason of a status.
pub fn reason(status: &tonic::Status) -> String {
    status.get_error_details().error_info().map(|info| info.reason.clone()).unwrap_or_default()
}

/// A deployment's certificates for one branch.
pub struct Deployment {
    /// The root authority's certificate.
    pub root: pb::Certificate,
    /// The branch intermediate's certificate.
    pub intermediate: pb::Certificate,
    /// The officer's certificate (staff code `officer-<branch>`).
    pub officer: pb::Certificate,
    /// The leader's certificate, officer and approver (staff code `leader-<branch>`).
    pub leader: pb::Certificate,
    /// The branch seal's certificate.
    pub seal: pb::Certificate,
}

/// Creates the root `root` (if `with_root`) and, for `branch`, its intermediate, an officer, a
/// leader and the seal, all with `algorithm`.
pub async fn deploy(client: &mut Client, branch: &str, with_root: bool, algorithm: pb::KeyAlgorithm) -> Deployment {
    let root = if with_root {
        client
            .create_certificate_authority(pb::CreateCertificateAuthorityRequest {
                request_id: request_id(),
                authority_id: "root".to_owned(),
                kind: pb::AuthorityKind::Root as i32,
                display_name: "motcua test root CA".to_owned(),
                key_algorithm: algorithm as i32,
                ..Default::default()
            })
            .await
            .expect("root created")
            .into_inner()
            .certificate
            .expect("root certificate")
    } else {
        let authority = client
            .get_certificate_authority(pb::GetCertificateAuthorityRequest { name: "authorities/root".to_owned() })
            .await
            .expect("root exists")
            .into_inner();
        client
            .get_certificate(pb::GetCertificateRequest { name: authority.certificate })
            .await
            .expect("root certificate")
            .into_inner()
    };
    let authority_id = branch.to_lowercase();
    let intermediate = client
        .create_certificate_authority(pb::CreateCertificateAuthorityRequest {
            request_id: request_id(),
            authority_id: authority_id.clone(),
            kind: pb::AuthorityKind::Intermediate as i32,
            branch_code: branch.to_owned(),
            parent: "authorities/root".to_owned(),
            display_name: format!("Chi nhánh {branch} CA"),
            key_algorithm: algorithm as i32,
            ..Default::default()
        })
        .await
        .expect("intermediate created")
        .into_inner()
        .certificate
        .expect("intermediate certificate");
    let mut issue = async |kind: pb::SubjectKind, holder_id: String, name: &str, roles: Vec<pb::SignerRole>| {
        client
            .create_certificate(pb::CreateCertificateRequest {
                request_id: request_id(),
                issuer: format!("authorities/{authority_id}"),
                subject_kind: kind as i32,
                holder_id,
                display_name: name.to_owned(),
                branch_code: branch.to_owned(),
                roles: roles.into_iter().map(|role| role as i32).collect(),
                key_algorithm: algorithm as i32,
                validity_days: 0,
            })
            .await
            .expect("certificate issued")
            .into_inner()
            .certificate
            .expect("certificate")
    };
    let officer =
        issue(pb::SubjectKind::Person, format!("officer-{branch}"), "Nguyễn Văn An", vec![pb::SignerRole::Officer])
            .await;
    let leader = issue(
        pb::SubjectKind::Person,
        format!("leader-{branch}"),
        "Trần Thị Bình",
        vec![pb::SignerRole::Officer, pb::SignerRole::Approver],
    )
    .await;
    let seal = issue(pb::SubjectKind::Organisation, branch.to_owned(), &format!("Chi nhánh {branch}"), vec![]).await;
    Deployment { root, intermediate, officer, leader, seal }
}

/// Signs `document` as `signer_id`.
pub async fn sign(client: &mut Client, signer_id: &str, document: &[u8]) -> pb::Signature {
    client
        .sign(pb::SignRequest {
            request_id: request_id(),
            signer_id: signer_id.to_owned(),
            content: Some(pb::sign_request::Content::Document(document.to_vec())),
            subject: "dossiers/000.00.12.H26-250301-0001".to_owned(),
            ..Default::default()
        })
        .await
        .expect("signed")
        .into_inner()
        .signature
        .expect("signature")
}

/// The latest checkpoint once it covers at least `size` leaves; the checkpointer is given 10 s, far
/// more than its one-second bound, so that a slow machine does not fail a test about something else.
pub async fn checkpoint_of_at_least(client: &mut Client, size: i64) -> pb::GetCheckpointResponse {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = client.get_checkpoint(pb::GetCheckpointRequest {}).await {
            let checkpoint = response.into_inner();
            if checkpoint.tree_size >= size {
                return checkpoint;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "a checkpoint of {size} leaves within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tile at a C2SP tlog-tiles `path`.
pub async fn tile(client: &mut Client, path: String) -> Vec<u8> {
    client.get_tile(pb::GetTileRequest { path }).await.expect("tile").into_inner().data
}
