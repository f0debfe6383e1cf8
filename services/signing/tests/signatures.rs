//! Signatures and seals over real gRPC, on SQLite and PostgreSQL: OpenSSL verifies what signing makes,
//! VerifySignature says why a signature fails, a request id is idempotent, the seal follows the
//! officer's signature and only a same-branch approver applies it; a chain is stored once, a signature
//! is found by its CMS bytes, and concurrent signing acts (logged in batches) take dense log indexes.

mod common;

use std::{path::Path, process::Command};

use common::{Deployment, deploy, reason, request_id, sign, start};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use tonic::Code;

const DOCUMENT: &[u8] = b"%PDF-1.7\nKet qua giai quyet ho so 000.00.12.H26-250301-0001\n";

/// Runs `openssl cms -verify` of `signature` over `document` with `chain`; whether it succeeded.
fn openssl_verifies(folder: &Path, document: &[u8], cms_der: &[u8], chain_pem: &str) -> bool {
    std::fs::write(folder.join("doc"), document).expect("write document");
    std::fs::write(folder.join("sig.p7s"), cms_der).expect("write signature");
    std::fs::write(folder.join("chain.pem"), chain_pem).expect("write chain");
    let output = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile", "chain.pem"])
        .args(["-content", "doc", "-in", "sig.p7s", "-out", "/dev/null"])
        .current_dir(folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"));
    if !output.status.success() {
        eprintln!("openssl: {}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

async fn seal(
    client: &mut common::Client,
    officer_signature: &str,
    approver_id: &str,
    document: &[u8],
) -> Result<pb::Signature, tonic::Status> {
    client
        .seal(pb::SealRequest {
            request_id: request_id(),
            officer_signature: officer_signature.to_owned(),
            approver_id: approver_id.to_owned(),
            content: Some(pb::seal_request::Content::Document(document.to_vec())),
        })
        .await
        .map(|response| response.into_inner().seal.expect("seal"))
}

#[tokio::test]
async fn openssl_verifies_the_officer_signature_and_the_seal_and_fails_after_one_byte_changes() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        for algorithm in [pb::KeyAlgorithm::EcdsaP256, pb::KeyAlgorithm::Rsa2048Pss] {
            let branch = if algorithm == pb::KeyAlgorithm::EcdsaP256 { "CN01" } else { "CN02" };
            let with_root = algorithm == pb::KeyAlgorithm::EcdsaP256;
            let Deployment { officer, .. } = deploy(&mut client, branch, with_root, algorithm).await;
            let signature = sign(&mut client, &officer.holder_id, DOCUMENT).await;
            let sealed =
                seal(&mut client, &signature.name, &format!("leader-{branch}"), DOCUMENT).await.expect("sealed");

            let folder = std::env::temp_dir().join(format!("motcua-openssl-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&folder).expect("temp folder");
            for record in [&signature, &sealed] {
                assert!(
                    openssl_verifies(&folder, DOCUMENT, &record.cms_der, &record.chain_pem),
                    "{} {algorithm:?}: openssl verifies the {:?}",
                    database.backend,
                    record.kind
                );
                let mut changed = DOCUMENT.to_vec();
                changed[10] ^= 0x01;
                assert!(
                    !openssl_verifies(&folder, &changed, &record.cms_der, &record.chain_pem),
                    "{} {algorithm:?}: openssl refuses a changed document",
                    database.backend
                );
            }
            let _ = std::fs::remove_dir_all(&folder);
            assert_eq!(sealed.kind, pb::SignatureKind::Seal as i32);
            assert_eq!(sealed.officer_signature, signature.name);
            assert_eq!(sealed.approver_id, format!("leader-{branch}"));
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn verify_signature_names_the_signer_and_reports_a_changed_document_as_digest_mismatch() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let signature = sign(&mut client, &deployment.officer.holder_id, DOCUMENT).await;

        let verify = |cms_der: Vec<u8>, document: &[u8]| pb::VerifySignatureRequest {
            signature_source: Some(pb::verify_signature_request::SignatureSource::CmsDer(cms_der)),
            content: Some(pb::verify_signature_request::Content::Document(document.to_vec())),
        };
        let valid =
            client.verify_signature(verify(signature.cms_der.clone(), DOCUMENT)).await.expect("verified").into_inner();
        assert!(valid.valid, "{}: {valid:?}", database.backend);
        assert_eq!(valid.signer_name, "Nguyễn Văn An");
        assert_eq!(valid.signer_role, pb::SignerRole::Officer as i32);
        assert_eq!(valid.branch_code, "CN01");
        assert_eq!(valid.kind, pb::SignatureKind::Personal as i32);
        assert_eq!(valid.signature, signature.name);
        assert_eq!(valid.sign_time, signature.sign_time);
        assert!(valid.logged);
        assert_eq!(valid.log_index, signature.log_index);

        let changed = client
            .verify_signature(verify(signature.cms_der.clone(), b"another document"))
            .await
            .expect("answered")
            .into_inner();
        assert!(!changed.valid);
        assert_eq!(changed.failure, pb::VerificationFailure::DigestMismatch as i32);

        let by_name = client
            .verify_signature(pb::VerifySignatureRequest {
                signature_source: Some(pb::verify_signature_request::SignatureSource::Signature(
                    signature.name.clone(),
                )),
                content: Some(pb::verify_signature_request::Content::DocumentSha256(signature.document_sha256.clone())),
            })
            .await
            .expect("answered")
            .into_inner();
        assert!(by_name.valid);

        let garbage = client
            .verify_signature(verify(b"not a signature".to_vec(), DOCUMENT))
            .await
            .expect("answered")
            .into_inner();
        assert_eq!(garbage.failure, pb::VerificationFailure::Malformed as i32);

        let mut tampered = signature.cms_der.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        let bad = client.verify_signature(verify(tampered, DOCUMENT)).await.expect("answered").into_inner();
        assert!(!bad.valid);
        assert!(
            [pb::VerificationFailure::BadSignature as i32, pb::VerificationFailure::Malformed as i32]
                .contains(&bad.failure),
            "{bad:?}"
        );
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_signer_from_another_deployment_is_an_unknown_signer() {
    let first = motcua_chassis::testing::TestDatabase::sqlite();
    let second = motcua_chassis::testing::TestDatabase::sqlite();
    let (server_a, server_b) = (start(&first).await, start(&second).await);
    let (mut a, mut b) = (common::client(server_a.local_addr).await, common::client(server_b.local_addr).await);
    let deployment = deploy(&mut a, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
    deploy(&mut b, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
    let signature = sign(&mut a, &deployment.officer.holder_id, DOCUMENT).await;
    let outcome = b
        .verify_signature(pb::VerifySignatureRequest {
            signature_source: Some(pb::verify_signature_request::SignatureSource::CmsDer(signature.cms_der)),
            content: Some(pb::verify_signature_request::Content::Document(DOCUMENT.to_vec())),
        })
        .await
        .expect("answered")
        .into_inner();
    assert!(!outcome.valid);
    // Same names, other keys: the issuer is found by name but its key does not verify the chain.
    assert!(
        [pb::VerificationFailure::UnknownSigner as i32, pb::VerificationFailure::ChainBroken as i32]
            .contains(&outcome.failure),
        "{outcome:?}"
    );
    server_a.stop().await.expect("clean stop");
    server_b.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_retried_request_id_returns_the_original_signature_and_another_body_is_refused() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let request = pb::SignRequest {
            request_id: request_id(),
            signer_id: deployment.officer.holder_id.clone(),
            content: Some(pb::sign_request::Content::Document(DOCUMENT.to_vec())),
            ..Default::default()
        };
        let first = client.sign(request.clone()).await.expect("signed").into_inner();
        let retry = client.sign(request.clone()).await.expect("replayed").into_inner();
        assert_eq!(first, retry, "{}: the retry gets the original response", database.backend);
        let other = client
            .sign(pb::SignRequest { content: Some(pb::sign_request::Content::Document(b"other".to_vec())), ..request })
            .await
            .expect_err("another body");
        assert_eq!((other.code(), reason(&other).as_str()), (Code::AlreadyExists, "REQUEST_ID_REUSED"));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_seal_needs_the_officer_signature_first_and_an_approver_of_the_same_branch() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        deploy(&mut client, "CN02", false, pb::KeyAlgorithm::EcdsaP256).await;

        let early = seal(&mut client, "signatures/00000000-0000-0000-0000-000000000000", "leader-CN01", DOCUMENT)
            .await
            .expect_err("no officer signature yet");
        assert_eq!((early.code(), reason(&early).as_str()), (Code::FailedPrecondition, "OFFICER_SIGNATURE_REQUIRED"));

        let signature = sign(&mut client, "officer-CN01", DOCUMENT).await;
        let other_document =
            seal(&mut client, &signature.name, "leader-CN01", b"another document").await.expect_err("other document");
        assert_eq!(reason(&other_document), "OFFICER_SIGNATURE_REQUIRED");
        let not_approver =
            seal(&mut client, &signature.name, "officer-CN01", DOCUMENT).await.expect_err("officer only");
        assert_eq!(
            (not_approver.code(), reason(&not_approver).as_str()),
            (Code::FailedPrecondition, "APPROVER_NOT_ALLOWED")
        );
        let other_branch = seal(&mut client, &signature.name, "leader-CN02", DOCUMENT).await.expect_err("other branch");
        assert_eq!(reason(&other_branch), "APPROVER_NOT_ALLOWED");
        let sealed = seal(&mut client, &signature.name, "leader-CN01", DOCUMENT).await.expect("sealed");
        assert_eq!((sealed.signer_id.as_str(), sealed.branch_code.as_str()), ("CN01", "CN01"));
        assert_eq!(sealed.approver_name, "Trần Thị Bình");
        assert!(sealed.log_index > signature.log_index);
        server.stop().await.expect("clean stop");
    })
    .await;
}

/// The extensions OpenSSL reads from a DER certificate.
fn openssl_extensions(certificate_der: &[u8]) -> String {
    let folder = std::env::temp_dir().join(format!("motcua-x509-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    std::fs::write(folder.join("cert.der"), certificate_der).expect("write certificate");
    let output = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in", "cert.der", "-noout", "-ext", "basicConstraints,keyUsage"])
        .current_dir(&folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"));
    let _ = std::fs::remove_dir_all(&folder);
    assert!(output.status.success(), "openssl reads the certificate");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn certificates_carry_the_key_usages_of_their_profile() {
    let database = motcua_chassis::testing::TestDatabase::sqlite();
    let server = start(&database).await;
    let mut client = common::client(server.local_addr).await;
    let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
    for authority in [&deployment.root, &deployment.intermediate] {
        let extensions = openssl_extensions(&authority.certificate_der);
        assert!(extensions.contains("CA:TRUE") && extensions.contains("Certificate Sign, CRL Sign"), "{extensions}");
    }
    assert!(openssl_extensions(&deployment.intermediate.certificate_der).contains("pathlen:0"));
    for holder in [&deployment.officer, &deployment.leader, &deployment.seal] {
        let extensions = openssl_extensions(&holder.certificate_der);
        assert!(
            extensions.contains("CA:FALSE") && extensions.contains("Digital Signature, Non Repudiation"),
            "{extensions}"
        );
    }
    assert_eq!(deployment.officer.roles, [pb::SignerRole::Officer as i32]);
    assert_eq!(deployment.seal.subject_kind, pb::SubjectKind::Organisation as i32);
    assert!(
        deployment.officer.subject_dn.contains("CN=Nguyễn Văn An") || deployment.officer.subject_dn.contains("CN=")
    );
    assert_eq!(deployment.officer.issuer, "authorities/cn01");
    server.stop().await.expect("clean stop");
}

/// The one number a `SELECT COUNT(...)`-like `sql` answers, read directly from signing's database.
async fn count(database_url: &str, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(database_url).await.expect("signing's database answers");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .expect("the count is read")
        .expect("a count has a row");
    row.try_get_by_index::<i64>(0).expect("a whole number")
}

#[tokio::test]
async fn two_signatures_store_their_chain_once_and_verify_signature_finds_a_signature_by_its_cms() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let first = sign(&mut client, "officer-CN01", b"first document").await;
        let second = sign(&mut client, "officer-CN01", b"second document").await;

        assert!(first.chain_pem.contains("BEGIN CERTIFICATE") && first.chain_pem == second.chain_pem);
        assert_eq!(count(&database.url, "SELECT COUNT(*) FROM certificate_chains").await, 1, "{}", database.backend);
        assert_eq!(count(&database.url, "SELECT COUNT(DISTINCT chain_sha256) FROM signatures").await, 1);
        let fetched = client
            .get_signature(pb::GetSignatureRequest { name: second.name.clone() })
            .await
            .expect("the record")
            .into_inner();
        assert_eq!(fetched.chain_pem, first.chain_pem, "a record answers its chain from the shared row");

        let verified = client
            .verify_signature(pb::VerifySignatureRequest {
                signature_source: Some(pb::verify_signature_request::SignatureSource::CmsDer(second.cms_der.clone())),
                content: Some(pb::verify_signature_request::Content::Document(b"second document".to_vec())),
            })
            .await
            .expect("answered")
            .into_inner();
        assert!(verified.valid && verified.logged, "{}: {verified:?}", database.backend);
        assert_eq!((verified.signature.as_str(), verified.log_index), (second.name.as_str(), second.log_index));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_signs_take_dense_log_indexes_and_each_act_commits_all_its_rows() {
    on_every_database(|database| async move {
        const TASKS: usize = 16;
        const PER_TASK: usize = 10;
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let handles: Vec<_> = (0..TASKS)
            .map(|task| {
                let mut client = client.clone();
                tokio::spawn(async move {
                    let mut signed = Vec::new();
                    for number in 0..PER_TASK {
                        let document = format!("task {task}, document {number}");
                        signed.push(sign(&mut client, "officer-CN01", document.as_bytes()).await);
                    }
                    signed
                })
            })
            .collect();
        let mut signatures = Vec::new();
        for handle in handles {
            signatures.extend(handle.await.expect("a signer task"));
        }
        let mut indexes: Vec<i64> = signatures.iter().map(|signature| signature.log_index).collect();
        indexes.sort_unstable();
        indexes.dedup();
        assert_eq!(indexes.len(), TASKS * PER_TASK, "{}: every act has its own index", database.backend);

        let url = &database.url;
        let tree_size = count(url, "SELECT tree_size FROM log_head").await;
        assert_eq!(count(url, "SELECT COUNT(*) FROM log_leaves").await, tree_size, "one leaf per index");
        assert_eq!(count(url, "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM log_leaves").await, tree_size, "no gap");
        assert_eq!(count(url, "SELECT COUNT(*) FROM signatures").await, (TASKS * PER_TASK) as i64);
        let joined = "SELECT COUNT(*) FROM signatures s JOIN log_leaves l ON l.leaf_index = s.log_index";
        assert_eq!(count(url, joined).await, (TASKS * PER_TASK) as i64, "each record's leaf is stored");
        let events = "SELECT COUNT(*) FROM events WHERE event_type = 'document_signed'";
        assert_eq!(count(url, events).await, (TASKS * PER_TASK) as i64, "each act's event");
        let answered = "SELECT COUNT(*) FROM request_log WHERE rpc = 'Sign' AND LENGTH(response) > 0";
        assert_eq!(count(url, answered).await, (TASKS * PER_TASK) as i64, "each act's recorded response");
        // A batch writes its calls' audit records in one statement: one record a call, with its subject.
        let audited = "SELECT COUNT(DISTINCT a.request_id) FROM audit_records a JOIN request_log r \
                       ON r.request_id = a.request_id WHERE a.rpc LIKE '%/Sign'";
        assert_eq!(count(url, audited).await, (TASKS * PER_TASK) as i64, "each act's audit record");
        let records = "SELECT COUNT(*) FROM audit_records WHERE rpc LIKE '%/Sign'";
        assert_eq!(count(url, records).await, (TASKS * PER_TASK) as i64, "one record an act");
        let named = "SELECT COUNT(DISTINCT s.record_id) FROM audit_record_subjects s \
                     JOIN audit_records a ON a.id = s.record_id WHERE a.rpc LIKE '%/Sign'";
        assert_eq!(count(url, named).await, (TASKS * PER_TASK) as i64, "each record names its subjects");
        server.stop().await.expect("clean stop");
    })
    .await;
}
