//! Revocation over real gRPC, on SQLite and PostgreSQL: a revoked certificate signs no more, its
//! earlier signatures stay valid, the revocation is logged, and the issuer's signed CRL lists it
//! (as OpenSSL reads and verifies it); a revocation that lands while an act waits in its batch
//! refuses that act and lets the rest of the batch commit.

mod common;

use std::process::Command;

use common::{deploy, reason, request_id, sign, start};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use tonic::Code;

fn revoke_request(name: &str) -> pb::RevokeCertificateRequest {
    pb::RevokeCertificateRequest {
        request_id: request_id(),
        name: name.to_owned(),
        reason: pb::RevocationReason::KeyCompromise as i32,
        note: "laptop stolen".to_owned(),
    }
}

#[tokio::test]
async fn a_revoked_certificate_signs_no_more_while_its_earlier_signatures_stay_valid() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let earlier = sign(&mut client, "officer-CN01", b"signed before").await;

        let revoked =
            client.revoke_certificate(revoke_request(&deployment.officer.name)).await.expect("revoked").into_inner();
        let certificate = revoked.certificate.expect("certificate");
        assert_eq!(certificate.state, pb::CertificateState::Revoked as i32);
        let revocation = certificate.revocation.expect("revocation");
        assert_eq!(revocation.reason, pb::RevocationReason::KeyCompromise as i32);
        assert!(revocation.log_index > earlier.log_index, "{}: the revocation is logged after", database.backend);

        let refused = client
            .sign(pb::SignRequest {
                request_id: request_id(),
                signer_id: "officer-CN01".to_owned(),
                content: Some(pb::sign_request::Content::Document(b"signed after".to_vec())),
                ..Default::default()
            })
            .await
            .expect_err("a revoked certificate does not sign");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "CERTIFICATE_NOT_ACTIVE"));

        let still_valid = client
            .verify_signature(pb::VerifySignatureRequest {
                signature_source: Some(pb::verify_signature_request::SignatureSource::Signature(earlier.name.clone())),
                content: Some(pb::verify_signature_request::Content::Document(b"signed before".to_vec())),
            })
            .await
            .expect("answered")
            .into_inner();
        assert!(still_valid.valid, "{}: {still_valid:?}", database.backend);
        assert_eq!(still_valid.certificate_state, pb::CertificateState::Revoked as i32);
        assert!(still_valid.revoke_time.is_some());

        let again = client.revoke_certificate(revoke_request(&deployment.officer.name)).await.expect_err("twice");
        assert_eq!((again.code(), reason(&again).as_str()), (Code::FailedPrecondition, "ALREADY_REVOKED"));

        let crl = client
            .get_crl(pb::GetCrlRequest { authority: "authorities/cn01".to_owned(), crl_number: 0 })
            .await
            .expect("crl")
            .into_inner();
        assert_eq!(crl.crl_number, 2, "{}: the first CRL was empty, the second lists the revocation", database.backend);
        let first = client
            .get_crl(pb::GetCrlRequest { authority: "authorities/cn01".to_owned(), crl_number: 1 })
            .await
            .expect("the first crl")
            .into_inner();
        assert_eq!(first.crl_number, 1);

        let folder = std::env::temp_dir().join(format!("motcua-crl-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("temp folder");
        std::fs::write(folder.join("crl.pem"), &crl.crl_pem).expect("write crl");
        std::fs::write(folder.join("ca.pem"), &deployment.intermediate.chain_pem).expect("write chain");
        let output = Command::new("openssl")
            .args(["crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text"])
            .current_dir(&folder)
            .output()
            .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"));
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let _ = std::fs::remove_dir_all(&folder);
        assert!(output.status.success(), "openssl reads the CRL: {text}");
        assert!(text.contains("verify OK"), "the CRL's signature verifies: {text}");
        assert!(
            text.to_uppercase().contains(&deployment.officer.serial_number.to_uppercase()),
            "lists the serial: {text}"
        );
        assert!(text.contains("Key Compromise"), "with its reason: {text}");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_committed_before_a_batch_takes_the_log_head_refuses_that_certificates_act_alone() {
    on_every_database(|database| async move {
        // Batches wait a second for more acts, so that the revocation lands while both acts wait.
        let mut config = motcua_testkit::services::signing_config(&database);
        config.service_variables.insert(motcua_signing::settings::ENV_SIGNING_LOG_BATCH_WAIT_MS, "1000".to_owned());
        let server = motcua_chassis::testing::start_service_with::<motcua_signing::Signing>(config).await;
        let mut client = common::client(server.local_addr).await;
        let revoked_branch = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        deploy(&mut client, "CN02", false, pb::KeyAlgorithm::EcdsaP256).await;
        let sign_as = |signer_id: &str| {
            let (mut client, signer_id) = (client.clone(), signer_id.to_owned());
            tokio::spawn(async move {
                client
                    .sign(pb::SignRequest {
                        request_id: request_id(),
                        signer_id,
                        content: Some(pb::sign_request::Content::Document(b"signed in one batch".to_vec())),
                        ..Default::default()
                    })
                    .await
                    .map(|response| response.into_inner().signature.expect("signature"))
            })
        };
        let (refused, kept) = (sign_as("officer-CN01"), sign_as("officer-CN02"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let revocation = client
            .revoke_certificate(revoke_request(&revoked_branch.officer.name))
            .await
            .expect("revoked while the batch waits")
            .into_inner()
            .certificate
            .and_then(|certificate| certificate.revocation)
            .expect("its revocation");

        let refused = refused.await.expect("a signer task").expect_err("the revoked certificate's act is refused");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "CERTIFICATE_NOT_ACTIVE"));
        let kept = kept.await.expect("a signer task").expect("the other act of the batch commits");
        assert_eq!(
            kept.log_index,
            revocation.log_index + 1,
            "{}: the act follows the revocation, with no gap for the refused one",
            database.backend
        );
        server.stop().await.expect("clean stop");
    })
    .await;
}
