//! End to end with the real signing service: a receipt issued with signing up is signed by the
//! collector's certificate in the background, its signature and log index are recorded, and
//! `openssl cms -verify` accepts the signature over the receipt's canonical XML.

mod common;

use std::process::Command;

use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::ENV_SIGNING_KEY_ENCRYPTION_SECRET,
    testing::{TestDatabase, start_service_with},
};
use motcua_proto::motcua::{
    receipt::v1 as pb,
    signing::v1::{self as signing_pb, signing_service_client::SigningServiceClient},
};

/// Creates a root CA, the branch's intermediate and a personal officer certificate for `officer_id`;
/// returns nothing: the chain comes with the signature.
async fn deploy_officer(signing: &mut SigningServiceClient<tonic::transport::Channel>, branch: &str, officer_id: &str) {
    signing
        .create_certificate_authority(signing_pb::CreateCertificateAuthorityRequest {
            request_id: request_id(),
            authority_id: "root".to_owned(),
            kind: signing_pb::AuthorityKind::Root as i32,
            display_name: "motcua receipt test root CA".to_owned(),
            key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        })
        .await
        .expect("root created");
    let authority_id = branch.to_lowercase();
    signing
        .create_certificate_authority(signing_pb::CreateCertificateAuthorityRequest {
            request_id: request_id(),
            authority_id: authority_id.clone(),
            kind: signing_pb::AuthorityKind::Intermediate as i32,
            branch_code: branch.to_owned(),
            parent: "authorities/root".to_owned(),
            display_name: format!("Chi nhánh {branch} CA"),
            key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        })
        .await
        .expect("intermediate created");
    signing
        .create_certificate(signing_pb::CreateCertificateRequest {
            request_id: request_id(),
            issuer: format!("authorities/{authority_id}"),
            subject_kind: signing_pb::SubjectKind::Person as i32,
            holder_id: officer_id.to_owned(),
            display_name: "Lê Thu Trang".to_owned(),
            branch_code: branch.to_owned(),
            roles: vec![signing_pb::SignerRole::Officer as i32],
            key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
            validity_days: 0,
        })
        .await
        .expect("officer certificate issued");
}

#[tokio::test]
async fn a_receipt_is_signed_in_the_background_and_openssl_verifies_its_xml() {
    let signing_database = TestDatabase::sqlite();
    let mut signing_config = ServiceConfig::for_local(ServiceKind::Signing, signing_database.url.clone());
    signing_config
        .service_variables
        .insert(ENV_SIGNING_KEY_ENCRYPTION_SECRET, "receipt test key-encryption secret".to_owned());
    let signing_server = start_service_with::<motcua_signing::Signing>(signing_config).await;
    let mut signing =
        SigningServiceClient::connect(format!("http://{}", signing_server.local_addr)).await.expect("signing answers");
    deploy_officer(&mut signing, "CN01", "CB001").await;

    let database = TestDatabase::sqlite();
    let server = start_receipt(&database, &format!("http://{}", signing_server.local_addr)).await;
    let mut receipt = client(server.local_addr).await;
    let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
    let issued = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;

    let mut signed = None;
    for _ in 0..100 {
        let read =
            receipt.get_receipt(pb::GetReceiptRequest { name: issued.name.clone() }).await.expect("read").into_inner();
        let signature = read.signature.clone().expect("a signature state");
        assert_ne!(signature.state(), pb::SignatureState::Refused, "signing refused: {}", signature.last_error_reason);
        if signature.state() == pb::SignatureState::Signed {
            signed = Some(signature);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let signed = signed.expect("signed within 10 s");
    assert!(signed.signature.starts_with("signatures/"));
    assert!(signed.log_index >= 0);

    let signature = signing
        .get_signature(signing_pb::GetSignatureRequest { name: signed.signature.clone() })
        .await
        .expect("the signature")
        .into_inner();
    let xml = receipt
        .render_receipt(pb::RenderReceiptRequest { name: issued.name.clone(), format: pb::RenderFormat::Xml as i32 })
        .await
        .expect("the XML")
        .into_inner()
        .content;
    let folder = std::env::temp_dir().join(format!("motcua-receipt-cms-{}", request_id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    std::fs::write(folder.join("receipt.xml"), &xml).expect("XML written");
    std::fs::write(folder.join("receipt.xml.p7s"), &signature.cms_der).expect("signature written");
    std::fs::write(folder.join("chain.pem"), &signature.chain_pem).expect("chain written");
    let output = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", "receipt.xml.p7s", "-content", "receipt.xml"])
        .args(["-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"])
        .current_dir(&folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is needed by this test ({error}); apt-get install -y openssl"));
    assert!(output.status.success(), "openssl cms -verify: {}", String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(&folder);
    server.stop().await.expect("clean stop");
    signing_server.stop().await.expect("clean stop");
}
