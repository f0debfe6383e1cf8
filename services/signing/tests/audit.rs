//! Signing's audit trail over real gRPC, on SQLite and PostgreSQL: authorities, certificates and
//! signatures made are mutations; reading a signature, which names its officer, is a read of personal
//! data; a refused signing keeps its code and reason; neither the document nor the officer's name
//! reaches the trail. How the trail filters, pages and records refusals is the chassis's, tested once
//! (intake's tests/audit.rs).

mod common;

use common::{client, deploy, reason, request_id, sign, start};
use motcua_chassis::testing::{TrailReader, on_every_database};
use motcua_proto::motcua::{
    audit::v1::{ListAuditRecordsRequest, audit_record::Action},
    signing::v1 as pb,
};
use tonic::Request;

const SIGN: &str = "/motcua.signing.v1.SigningService/Sign";
const GET_SIGNATURE: &str = "/motcua.signing.v1.SigningService/GetSignature";
const CREATE_AUTHORITY: &str = "/motcua.signing.v1.SigningService/CreateCertificateAuthority";
const CREATE_CERTIFICATE: &str = "/motcua.signing.v1.SigningService/CreateCertificate";

#[tokio::test]
async fn a_deployment_and_a_signature_are_mutations_and_reading_the_signature_is_a_personal_data_read() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut signing = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let deployment = deploy(&mut signing, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let signature = sign(&mut signing, "officer-CN01", b"Giay khai sinh cua Nguyen Van A").await;
        let mut read = Request::new(pb::GetSignatureRequest { name: signature.name.clone() });
        read.metadata_mut().insert("x-motcua-identity", "service/intake".parse().expect("ASCII"));
        signing.get_signature(read).await.expect("read");

        let mutations =
            trail.records(ListAuditRecordsRequest { action: Action::Mutation as i32, ..Default::default() }).await;
        let rpcs: Vec<&str> = mutations.iter().map(|record| record.rpc.as_str()).collect();
        assert_eq!(
            rpcs,
            vec![CREATE_AUTHORITY, CREATE_AUTHORITY, CREATE_CERTIFICATE, CREATE_CERTIFICATE, CREATE_CERTIFICATE, SIGN],
            "{}",
            database.backend
        );
        assert!(mutations.iter().all(|record| record.status_code == 0 && !record.request_id.is_empty()));
        assert!(mutations[2].subjects.contains(&"authorities/cn01".to_owned()), "the issuer");
        assert!(mutations[2].subjects.contains(&deployment.officer.name), "the certificate issued");
        let signed = &mutations[5];
        assert_eq!(signed.actor_id, "officer-CN01");
        assert!(signed.subjects.contains(&signature.name));
        assert!(signed.subjects.contains(&"dossiers/000.00.12.H26-250301-0001".to_owned()), "what was signed");

        let reads = trail
            .records(ListAuditRecordsRequest { action: Action::PersonalDataRead as i32, ..Default::default() })
            .await;
        assert_eq!(reads.len(), 1, "{}", database.backend);
        assert_eq!(
            (reads[0].rpc.as_str(), reads[0].identity.as_str()),
            (GET_SIGNATURE, "spiffe://motcua/service/intake")
        );
        assert_eq!(reads[0].subjects, vec![signature.name.clone(), "dossiers/000.00.12.H26-250301-0001".to_owned()]);

        let everything = trail.all().await;
        assert!(everything.windows(2).all(|pair| pair[0].sequence < pair[1].sequence));
        let text = format!("{everything:?}");
        for personal in ["Nguyễn Văn An", "Trần Thị Bình", "Nguyen Van A", "Giay khai sinh"] {
            assert!(!text.contains(personal), "{}: {personal} in the trail", database.backend);
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_refused_signing_is_recorded_with_its_code_and_reason() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut signing = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let request = pb::SignRequest {
            request_id: request_id(),
            signer_id: "nobody".to_owned(),
            content: Some(pb::sign_request::Content::Document(b"x".to_vec())),
            subject: "dossiers/000.00.12.H26-250301-0002".to_owned(),
            ..Default::default()
        };
        let refusal = signing.sign(request.clone()).await.expect_err("no certificate for nobody");

        let records = trail.of_request(&request.request_id).await;
        assert_eq!(records.len(), 1, "{}", database.backend);
        assert_eq!(records[0].status_code, refusal.code() as i32);
        assert_ne!(records[0].status_code, 0);
        assert_eq!(records[0].error_reason, reason(&refusal));
        assert_eq!(records[0].subjects, vec!["dossiers/000.00.12.H26-250301-0002".to_owned()]);
        server.stop().await.expect("clean stop");
    })
    .await;
}
