//! Signing's audit trail over real gRPC, on SQLite and PostgreSQL: authorities, certificates and
//! signatures made are mutations; reading a signature, which names its officer, is a read of personal
//! data; a refused signing keeps its code and reason; refusals by the policy are denials; and neither
//! the document nor the officer's name reaches the trail.

mod common;

use common::{client, deploy, reason, request_id, sign, start};
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::ENV_SIGNING_KEY_ENCRYPTION_SECRET,
    testing::{on_every_database, start_service_with},
};
use motcua_proto::motcua::{
    common::v1::{AuditRecord, audit_record::Action},
    signing::v1 as pb,
};
use tonic::{Code, Request};

const SIGN: &str = "/motcua.signing.v1.SigningService/Sign";
const GET_SIGNATURE: &str = "/motcua.signing.v1.SigningService/GetSignature";
const CREATE_AUTHORITY: &str = "/motcua.signing.v1.SigningService/CreateCertificateAuthority";
const CREATE_CERTIFICATE: &str = "/motcua.signing.v1.SigningService/CreateCertificate";

async fn trail(signing: &mut common::Client, filter: pb::ListAuditRecordsRequest) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = signing
            .list_audit_records(pb::ListAuditRecordsRequest { page_token: page_token.clone(), ..filter.clone() })
            .await
            .expect("the trail answers")
            .into_inner();
        records.extend(page.audit_records);
        if page.next_page_token.is_empty() {
            return records;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_deployment_and_a_signature_are_mutations_and_reading_the_signature_is_a_personal_data_read() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut signing = client(server.local_addr).await;
        let deployment = deploy(&mut signing, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let signature = sign(&mut signing, "officer-CN01", b"Giay khai sinh cua Nguyen Van A").await;
        let mut read = Request::new(pb::GetSignatureRequest { name: signature.name.clone() });
        read.metadata_mut().insert("x-motcua-identity", "service/intake".parse().expect("ASCII"));
        signing.get_signature(read).await.expect("read");

        let mutations =
            trail(&mut signing, pb::ListAuditRecordsRequest { action: Action::Mutation as i32, ..Default::default() })
                .await;
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

        let reads = trail(
            &mut signing,
            pb::ListAuditRecordsRequest { action: Action::PersonalDataRead as i32, ..Default::default() },
        )
        .await;
        assert_eq!(reads.len(), 1, "{}", database.backend);
        assert_eq!(
            (reads[0].rpc.as_str(), reads[0].identity.as_str()),
            (GET_SIGNATURE, "spiffe://motcua/service/intake")
        );
        assert_eq!(reads[0].subjects, vec![signature.name.clone(), "dossiers/000.00.12.H26-250301-0001".to_owned()]);

        let everything = trail(&mut signing, pb::ListAuditRecordsRequest::default()).await;
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
        let request = pb::SignRequest {
            request_id: request_id(),
            signer_id: "nobody".to_owned(),
            content: Some(pb::sign_request::Content::Document(b"x".to_vec())),
            subject: "dossiers/000.00.12.H26-250301-0002".to_owned(),
            ..Default::default()
        };
        let refusal = signing.sign(request.clone()).await.expect_err("no certificate for nobody");

        let records =
            trail(&mut signing, pb::ListAuditRecordsRequest { request_id: request.request_id, ..Default::default() })
                .await;
        assert_eq!(records.len(), 1, "{}", database.backend);
        assert_eq!(records[0].status_code, refusal.code() as i32);
        assert_ne!(records[0].status_code, 0);
        assert_eq!(records[0].error_reason, reason(&refusal));
        assert_eq!(records[0].subjects, vec!["dossiers/000.00.12.H26-250301-0002".to_owned()]);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_call_the_policy_does_not_grant_is_recorded_as_denied() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-signing-audit-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy = folder.join("policy.yaml");
        std::fs::write(
            &policy,
            "identities:\n  agency/auditor:\n    rpcs: [\"motcua.signing.v1.SigningService/ListAuditRecords\"]\n",
        )
        .expect("written");
        let mut config = ServiceConfig::for_local(ServiceKind::Signing, database.url.clone());
        config.service_variables.insert(ENV_SIGNING_KEY_ENCRYPTION_SECRET, common::TEST_SECRET.to_owned());
        config.policy_file = Some(policy);
        let server = start_service_with::<motcua_signing::Signing>(config).await;
        let mut signing = client(server.local_addr).await;

        let mut request = Request::new(pb::SignRequest { request_id: request_id(), ..Default::default() });
        request.metadata_mut().insert("x-motcua-identity", "service/receipt".parse().expect("ASCII"));
        assert_eq!(signing.sign(request).await.expect_err("not granted").code(), Code::PermissionDenied);

        let mut list = Request::new(pb::ListAuditRecordsRequest::default());
        list.metadata_mut().insert("x-motcua-identity", "agency/auditor".parse().expect("ASCII"));
        let records = signing.list_audit_records(list).await.expect("the auditor reads").into_inner().audit_records;
        assert_eq!(records.len(), 1, "{}: {records:?}", database.backend);
        assert_eq!((records[0].action(), records[0].rpc.as_str()), (Action::Denied, SIGN));
        assert_eq!(records[0].identity, "spiffe://motcua/service/receipt");
        assert_eq!(records[0].error_reason, "RPC_NOT_ALLOWED");
        server.stop().await.expect("clean stop");
        let _ = std::fs::remove_dir_all(folder);
    })
    .await;
}
