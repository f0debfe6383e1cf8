//! Signing as its peers call it, through the chassis's signing client, in the development mode with a
//! policy file: intake and receipt name themselves (`service/intake`, `service/receipt`), so the file
//! grants each what it would grant their certificates under mutual TLS, and a refusal reaches the
//! peer's caller as FAILED_PRECONDITION (SIGNING_REFUSED) naming signing's own reason.

mod common;

use common::*;
use motcua_chassis::{
    ApiError, ServiceConfig, ServiceKind,
    peer::{
        self, PeerFailure,
        signing::{SealContent, SignContent, SigningClient},
    },
    testing::{on_every_database, start_service_with},
};
use motcua_proto::motcua::signing::v1::{self as pb, signing_service_client::SigningServiceClient};
use motcua_signing::{Signing, settings::ENV_SIGNING_KEY_ENCRYPTION_SECRET};
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic_types::StatusExt;

/// The shipped policy's grants of intake and receipt, and an operator who deploys certificates.
const POLICY: &str = "identities:
  service/intake:
    rpcs: [motcua.signing.v1.SigningService/Sign, motcua.signing.v1.SigningService/Seal]
  service/receipt:
    rpcs: [motcua.signing.v1.SigningService/Sign]
  dev/anonymous:
    rpcs:
      - motcua.signing.v1.SigningService/CreateCertificateAuthority
      - motcua.signing.v1.SigningService/GetCertificateAuthority
      - motcua.signing.v1.SigningService/GetCertificate
      - motcua.signing.v1.SigningService/CreateCertificate
";

fn peer_of(kind: ServiceKind, url: &str) -> SigningClient {
    SigningClient::connect(&ServiceConfig::for_local(kind, "sqlite::memory:"), "MOTCUA_TEST_SIGNING_URL", url)
        .expect("a valid URL")
}

#[tokio::test]
async fn in_the_development_mode_services_call_signing_naming_themselves_and_the_policy_decides() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-signing-peers-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy = folder.join("policy.yaml");
        std::fs::write(&policy, POLICY).expect("written");
        let mut config = ServiceConfig::for_local(ServiceKind::Signing, database.url.clone());
        config.service_variables.insert(ENV_SIGNING_KEY_ENCRYPTION_SECRET, TEST_SECRET.to_owned());
        config.policy_file = Some(policy);
        let server = start_service_with::<Signing>(config).await;
        let url = format!("http://{}", server.local_addr);
        deploy(&mut client(server.local_addr).await, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let digest = Sha256::digest(b"%PDF-1.7 a result").to_vec();

        let intake = peer_of(ServiceKind::Intake, &url);
        let signature = intake
            .sign(request_id(), "officer-CN01", SignContent::DocumentSha256(digest.clone()), "dossiers/x".to_owned())
            .await
            .expect("service/intake may sign");
        intake
            .seal(request_id(), &signature.name, "leader-CN01", SealContent::DocumentSha256(digest.clone()))
            .await
            .expect("service/intake may seal");

        let receipt = peer_of(ServiceKind::Receipt, &url);
        receipt
            .sign(request_id(), "officer-CN01", SignContent::Document(b"<receipt/>".to_vec()), "receipts/x".to_owned())
            .await
            .expect("service/receipt may sign");
        let refused = receipt
            .seal(request_id(), &signature.name, "leader-CN01", SealContent::DocumentSha256(digest.clone()))
            .await
            .expect_err("service/receipt may not seal");
        assert_eq!((refused.failure, refused.reason.as_str()), (PeerFailure::Refused, "RPC_NOT_ALLOWED"));
        let status = ApiError::from(refused).into_status(ServiceKind::Receipt.error_domain());
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status.get_error_details().error_info().map(|info| info.reason.clone()).as_deref(),
            Some("SIGNING_REFUSED")
        );

        let unknown = intake
            .sign(request_id(), "officer-CN09", SignContent::DocumentSha256(digest.clone()), "dossiers/x".to_owned())
            .await
            .expect_err("no such signer");
        assert_eq!(unknown.failure, PeerFailure::Refused, "{unknown}");

        // A caller that names no one is dev/anonymous, which this policy does not let sign.
        let mut anonymous = SigningServiceClient::new(peer::connect_lazy(&url).expect("a valid URL"));
        let anonymous_sign = pb::SignRequest {
            request_id: request_id(),
            signer_id: "officer-CN01".to_owned(),
            content: Some(pb::sign_request::Content::DocumentSha256(digest)),
            subject: "dossiers/x".to_owned(),
            ..Default::default()
        };
        let refused = anonymous.sign(anonymous_sign).await.expect_err("dev/anonymous may not sign");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "RPC_NOT_ALLOWED"));
        server.stop().await.expect("clean stop");
    })
    .await;
}
