//! VerifySignature and `openssl cms -verify` agree, over real gRPC and the real OpenSSL CLI, on SQLite
//! and PostgreSQL, on why a signature fails: made after its certificate expired, made after its
//! certificate was revoked, and checked against another deployment's chain (a foreign key under the
//! same names); and each time on the signature that stays valid beside it.
//!
//! OpenSSL is run as docs/api.md tells a citizen to (`-binary -inform DER -purpose any`), with
//! `-attime` set to the signing time where validity matters, because signing judges a certificate at
//! the signing time and OpenSSL, unless told, judges it now.

mod common;

use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use common::{
    Client, another_database, deploy,
    openssl::{OutsideCa, at_time, cms_verify},
    request_id, start,
};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;

/// Imports the outside CA's root as a trust anchor and its CN05 intermediate with its key, so that
/// signing holds the chain (and, holding the intermediate's key, signs its CRLs).
async fn import_outside_ca(client: &mut Client, ca: &OutsideCa) {
    for (authority_id, kind, branch_code, certificate, key) in [
        ("root", pb::AuthorityKind::Root, "", "root.pem", None),
        ("cn05", pb::AuthorityKind::Intermediate, "CN05", "int.pem", Some("int.key")),
    ] {
        client
            .import_certificate_authority(pb::ImportCertificateAuthorityRequest {
                request_id: request_id(),
                authority_id: authority_id.to_owned(),
                kind: kind as i32,
                branch_code: branch_code.to_owned(),
                key_material: Some(pb::KeyMaterial {
                    format: Some(pb::key_material::Format::Pem(pb::PemBundle {
                        certificate_chain_pem: ca.folder.read_string(certificate),
                        private_key_pem: key.map(|key| ca.folder.read_string(key)).unwrap_or_default(),
                        private_key_password: String::new(),
                    })),
                }),
            })
            .await
            .expect("the outside CA is imported");
    }
}

async fn verify(client: &mut Client, cms_der: &[u8], document: &[u8]) -> pb::VerifySignatureResponse {
    client
        .verify_signature(pb::VerifySignatureRequest {
            signature_source: Some(pb::verify_signature_request::SignatureSource::CmsDer(cms_der.to_vec())),
            content: Some(pb::verify_signature_request::Content::Document(document.to_vec())),
        })
        .await
        .expect("answered")
        .into_inner()
}

fn failure(outcome: &pb::VerifySignatureResponse) -> pb::VerificationFailure {
    pb::VerificationFailure::try_from(outcome.failure).expect("a known failure")
}

/// Sleeps until `time` has passed by `margin`.
async fn sleep_past(time: chrono::DateTime<Utc>, margin: Duration) {
    let wait = (time - motcua_chassis::clock::Clock::system().now()).to_std().unwrap_or_default() + margin;
    tokio::time::sleep(wait).await;
}

#[tokio::test]
async fn a_signature_made_after_the_certificate_expired_is_expired_for_both_and_one_made_before_is_valid() {
    on_every_database(|database| async move {
        let ca = OutsideCa::new();
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        import_outside_ca(&mut client, &ca).await;
        // A certificate that expires a few seconds from now: one signature inside its validity, one
        // after it. Whole seconds, as X.509 and the CMS signing time carry them.
        let now =
            motcua_chassis::clock::Clock::system().now().duration_trunc(TimeDelta::seconds(1)).expect("whole seconds");
        let not_after = now + TimeDelta::seconds(4);
        ca.issue_leaf("officer", "Le Van Cuong", now - TimeDelta::seconds(60), not_after);
        let chain = ca.chain_pem();

        let before_document = b"signed while the certificate was valid";
        let before = ca.sign("officer", before_document);
        sleep_past(not_after, Duration::from_millis(1500)).await;
        let after_document = b"signed after the certificate expired";
        let after = ca.sign("officer", after_document);

        let valid = verify(&mut client, &before, before_document).await;
        assert!(valid.valid, "{}: signed inside the validity: {valid:?}", database.backend);
        let expired = verify(&mut client, &after, after_document).await;
        assert!(!expired.valid);
        assert_eq!(failure(&expired), pb::VerificationFailure::Expired, "{}: {expired:?}", database.backend);
        assert_eq!(expired.signer_name, "Le Van Cuong");

        let before_time = at_time(valid.sign_time.as_ref().expect("a signing time"));
        let after_time = at_time(expired.sign_time.as_ref().expect("a signing time"));
        assert_eq!(
            cms_verify(&ca.folder, before_document, &before, &chain, &["-attime", &before_time]),
            Ok(()),
            "{}: OpenSSL accepts the signature made inside the validity, at its signing time",
            database.backend
        );
        let refused = cms_verify(&ca.folder, after_document, &after, &chain, &["-attime", &after_time])
            .expect_err("OpenSSL refuses the signature made after expiry");
        assert!(refused.contains("certificate has expired"), "{}: {refused}", database.backend);
        // Checked now rather than at the signing time, OpenSSL refuses both: which is why a verifier
        // passes the signing time.
        let now_refused = cms_verify(&ca.folder, before_document, &before, &chain, &[]).expect_err("expired now");
        assert!(now_refused.contains("certificate has expired"), "{now_refused}");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_signature_made_after_revocation_is_revoked_for_both_with_the_crl_and_an_earlier_one_stays_valid() {
    on_every_database(|database| async move {
        let ca = OutsideCa::new();
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        import_outside_ca(&mut client, &ca).await;
        // The test holds the officer's key as well as signing: the thief of a revoked key, who can
        // still make a signature that claims any signing time after the revocation.
        let now = motcua_chassis::clock::Clock::system().now();
        ca.issue_leaf("officer", "Le Van Cuong", now - TimeDelta::seconds(60), now + TimeDelta::days(365));
        let officer = client
            .import_certificate(pb::ImportCertificateRequest {
                request_id: request_id(),
                subject_kind: pb::SubjectKind::Person as i32,
                holder_id: "officer-CN05".to_owned(),
                branch_code: "CN05".to_owned(),
                roles: vec![pb::SignerRole::Officer as i32],
                key_material: Some(pb::KeyMaterial {
                    format: Some(pb::key_material::Format::Pkcs12(pb::Pkcs12Bundle {
                        data: ca.export_pkcs12("officer", "p12-secret"),
                        password: "p12-secret".to_owned(),
                    })),
                }),
            })
            .await
            .expect("the officer is imported")
            .into_inner()
            .certificate
            .expect("certificate");

        let earlier_document = b"signed by signing before the revocation";
        let earlier = common::sign(&mut client, "officer-CN05", earlier_document).await;
        let consulted = earlier.revocation_check.as_ref().expect("the check at signing time").crl_number;
        let crl = |crl_number: i64| pb::GetCrlRequest { authority: "authorities/cn05".to_owned(), crl_number };
        let crl_at_signing = client.get_crl(crl(consulted)).await.expect("the CRL consulted").into_inner().crl_pem;

        let revoked = client
            .revoke_certificate(pb::RevokeCertificateRequest {
                request_id: request_id(),
                name: officer.name.clone(),
                reason: pb::RevocationReason::KeyCompromise as i32,
                note: "the key was copied".to_owned(),
            })
            .await
            .expect("revoked")
            .into_inner()
            .certificate
            .expect("certificate");
        let revoke_time = revoked.revocation.as_ref().and_then(|revocation| revocation.revoke_time);
        let revoke_time =
            motcua_chassis::timestamps::from_proto(&revoke_time.expect("a revocation time")).expect("in range");
        // The signing time counts in whole seconds: the next one is after the revocation.
        sleep_past(revoke_time, Duration::from_millis(1100)).await;
        let late_document = b"signed with the revoked key afterwards";
        let late = ca.sign("officer", late_document);
        let current_crl = client.get_crl(crl(0)).await.expect("the current CRL").into_inner().crl_pem;
        let chain = ca.chain_pem();

        let still_valid = verify(&mut client, &earlier.cms_der, earlier_document).await;
        assert!(still_valid.valid, "{}: signed before the revocation: {still_valid:?}", database.backend);
        let refused = verify(&mut client, &late, late_document).await;
        assert!(!refused.valid);
        assert_eq!(
            failure(&refused),
            pb::VerificationFailure::RevokedBeforeSigningTime,
            "{}: {refused:?}",
            database.backend
        );

        let late_time = at_time(refused.sign_time.as_ref().expect("a signing time"));
        let with_current_crl = format!("{chain}{current_crl}");
        let openssl_refused =
            cms_verify(&ca.folder, late_document, &late, &with_current_crl, &["-crl_check", "-attime", &late_time])
                .expect_err("OpenSSL refuses the signature made after the revocation");
        assert!(openssl_refused.contains("certificate revoked"), "{}: {openssl_refused}", database.backend);
        assert_eq!(
            cms_verify(&ca.folder, late_document, &late, &chain, &["-attime", &late_time]),
            Ok(()),
            "without the CRL OpenSSL accepts it: the revocation is all that stands against it"
        );
        let earlier_time = at_time(still_valid.sign_time.as_ref().expect("a signing time"));
        assert_eq!(
            cms_verify(
                &ca.folder,
                earlier_document,
                &earlier.cms_der,
                &format!("{chain}{crl_at_signing}"),
                &["-crl_check", "-attime", &earlier_time],
            ),
            Ok(()),
            "{}: OpenSSL accepts the earlier signature with the CRL its record says was consulted",
            database.backend
        );
        // Where OpenSSL cannot follow: it has no notion of a revocation *after* the signing time. The
        // signing time is the signer's own claim and, without a timestamp token, OpenSSL counts a
        // listed serial against every signature. So against the current CRL, checked now, it refuses
        // the earlier signature too; a verifier uses the CRL the signature's record names (above), and
        // signing's transparency log is what proves that signature was made before the revocation.
        // (Checked at the earlier signing time instead, OpenSSL would refuse the current CRL itself as
        // not yet valid whenever it was issued a second later, which says nothing about revocation.)
        let divergent = cms_verify(&ca.folder, earlier_document, &earlier.cms_der, &with_current_crl, &["-crl_check"])
            .expect_err("OpenSSL counts the revocation against the earlier signature too");
        assert!(divergent.contains("certificate revoked"), "{divergent}");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_signature_checked_against_another_deployments_chain_is_chain_broken_for_both() {
    on_every_database(|database| async move {
        let other_database = another_database(&database).await;
        let (ours, theirs) = (start(&database).await, start(&other_database).await);
        let mut ours_client = common::client(ours.local_addr).await;
        let mut theirs_client = common::client(theirs.local_addr).await;
        let our_deployment = deploy(&mut ours_client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        // The same names, other keys: an impostor's root and intermediate.
        let their_deployment = deploy(&mut theirs_client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        assert_eq!(our_deployment.intermediate.subject_dn, their_deployment.intermediate.subject_dn);
        let document = b"signed in our deployment";
        let signature = common::sign(&mut ours_client, "officer-CN01", document).await;

        let valid = verify(&mut ours_client, &signature.cms_der, document).await;
        assert!(valid.valid, "{}: {valid:?}", database.backend);
        let broken = verify(&mut theirs_client, &signature.cms_der, document).await;
        assert!(!broken.valid);
        assert_eq!(
            failure(&broken),
            pb::VerificationFailure::ChainBroken,
            "{}: their intermediate has our intermediate's name but not its key: {broken:?}",
            database.backend
        );

        let folder = common::openssl::Folder::new("chain-broken");
        assert_eq!(
            cms_verify(&folder, document, &signature.cms_der, &signature.chain_pem, &[]),
            Ok(()),
            "{}: OpenSSL accepts the signature with our chain",
            database.backend
        );
        let refused = cms_verify(&folder, document, &signature.cms_der, &their_deployment.intermediate.chain_pem, &[])
            .expect_err("OpenSSL refuses the signature with their chain");
        assert!(refused.contains("Verify error"), "{}: {refused}", database.backend);
        ours.stop().await.expect("clean stop");
        theirs.stop().await.expect("clean stop");
    })
    .await;
}
