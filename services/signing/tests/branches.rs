//! An identity the policy limits to some branches signs and seals with those branches' certificates
//! only, on SQLite and PostgreSQL: another branch's officer or seal is PERMISSION_DENIED
//! (BRANCH_NOT_ALLOWED), while the center's own services sign for every branch.

mod common;

use common::*;
use motcua_proto::motcua::signing::v1 as pb;
use motcua_signing::Signing;
use motcua_testkit::{
    as_identity, on_every_database, policy::PolicyFile, services::signing_config, start_service_with,
};
use tonic::Code;

const BRANCH_DESK: &str = "staff/mot-cua-cn01";
const DOCUMENT: &[u8] = b"%PDF-1.7 the result of dossier 000.00.12.H26-250301-0001";

fn sign_request(signer_id: &str) -> pb::SignRequest {
    pb::SignRequest {
        request_id: request_id(),
        signer_id: signer_id.to_owned(),
        content: Some(pb::sign_request::Content::Document(DOCUMENT.to_vec())),
        subject: "dossiers/000.00.12.H26-250301-0001".to_owned(),
        ..Default::default()
    }
}

fn seal_request(officer_signature: &str, approver_id: &str) -> pb::SealRequest {
    pb::SealRequest {
        request_id: request_id(),
        officer_signature: officer_signature.to_owned(),
        approver_id: approver_id.to_owned(),
        content: Some(pb::seal_request::Content::Document(DOCUMENT.to_vec())),
    }
}

#[tokio::test]
async fn a_branch_desk_signs_and_seals_for_its_branch_only() {
    on_every_database(|database| async move {
        let policy = PolicyFile::write(&format!(
            "identities:\n  dev/anonymous:\n    rpcs: [\"*\"]\n  {BRANCH_DESK}:\n    rpcs: [\"motcua.signing.v1.SigningService/*\"]\n    branches: [\"CN01\"]\n"
        ));
        let mut config = signing_config(&database);
        config.policy_file = Some(policy.path().to_owned());
        let server = start_service_with::<Signing>(config).await;
        let mut signing = client(server.local_addr).await;
        deploy(&mut signing, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        deploy(&mut signing, "CN02", false, pb::KeyAlgorithm::EcdsaP256).await;

        let own = signing
            .sign(as_identity(BRANCH_DESK, sign_request("officer-CN01")))
            .await
            .expect("its branch's officer")
            .into_inner()
            .signature
            .expect("a signature");
        signing.seal(as_identity(BRANCH_DESK, seal_request(&own.name, "leader-CN01"))).await.expect("its branch's seal");

        let refused = signing.sign(as_identity(BRANCH_DESK, sign_request("officer-CN02"))).await.expect_err("CN02's officer");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "BRANCH_NOT_ALLOWED"));
        // The center signs for CN02; the CN01 desk still may not seal it.
        let other = sign(&mut signing, "officer-CN02", DOCUMENT).await;
        let refused = signing
            .seal(as_identity(BRANCH_DESK, seal_request(&other.name, "leader-CN02")))
            .await
            .expect_err("CN02's seal");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "BRANCH_NOT_ALLOWED"));
        signing.seal(seal_request(&other.name, "leader-CN02")).await.expect("the center seals for CN02");
        server.stop().await.expect("clean stop");
    })
    .await;
}
