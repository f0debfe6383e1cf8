//! One dossier through the demo's path against the processes, as the counter application drives it
//! under mutual TLS: filed, its slip issued, processing, a result PDF rendered by receipt, resolved
//! with the officer's signature, approved with the branch seal, returned. Every signature (the
//! result's two, the slip's and the fee receipt's) is verified with `openssl cms -verify` against the
//! chain signing gives and fails on a changed byte, and each is proved in a signed checkpoint.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use motcua_proto::motcua::signing::v1::signing_service_client::SigningServiceClient;
use motcua_proto::motcua::{intake::v1 as intake_pb, receipt::v1 as receipt_pb, signing::v1 as signing_pb};
use motcua_testkit::{
    people, request_id,
    verify::{leaf_hash, openssl_verify, proof_hashes, root_from_inclusion_proof, verify_checkpoint},
};
use tonic::transport::Channel;

use super::{
    counter::{BRANCH, Counter, FEE_AT_INTAKE_PROCEDURE, OFFICER},
    processes::Cluster,
};

/// The leader the kit's deployment certifies as approver of the branch.
const LEADER: &str = "leader-CN01";

/// Drives dossier `code` (filed, its slip done) to its return, and verifies the result's officer
/// signature and seal with OpenSSL.
pub async fn resolve_approve_return_and_verify(counter: &Counter, cluster: &Cluster, code: &str) {
    let name = format!("dossiers/{code}");
    let mut intake = counter.intake(cluster, 0).await;
    let request = intake_pb::StartProcessingRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: people::actor(OFFICER),
        ..Default::default()
    };
    intake.start_processing(request).await.expect("processing started");

    let request = receipt_pb::RenderResultDocumentRequest {
        dossier_code: code.to_owned(),
        title: "XÁC NHẬN ĐĂNG KÝ THƯỜNG TRÚ".to_owned(),
        procedure_code: FEE_AT_INTAKE_PROCEDURE.to_owned(),
        procedure_name: "Đăng ký thường trú".to_owned(),
        decision_text: format!("Hồ sơ {code} đã được giải quyết."),
        branch_code: BRANCH.to_owned(),
        branch_name: "Chi nhánh số 1".to_owned(),
        issue_date: None,
    };
    let rendered = counter.receipt(cluster, 0).await.render_result_document(request).await;
    let rendered = rendered.expect("receipt renders the result").into_inner();
    assert!(rendered.content.starts_with(b"%PDF-"), "a PDF");

    let request = intake_pb::ResolveDossierRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: people::actor(OFFICER),
        result_content: Some(intake_pb::resolve_dossier_request::ResultContent::File(intake_pb::DocumentFile {
            file_name: rendered.file_name.clone(),
            media_type: rendered.media_type.clone(),
            content: rendered.content.clone(),
            ..Default::default()
        })),
        electronic: true,
        reason: String::new(),
    };
    let resolved = intake.resolve_dossier(request).await.expect("resolved and signed through signing");
    let result = resolved.into_inner().dossier.and_then(|dossier| dossier.result).expect("a result");
    assert!(!result.officer_signature.is_empty(), "{result:?}");

    let request = intake_pb::ApproveResultRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: people::actor(LEADER),
        reason: String::new(),
    };
    let approved = intake.approve_result(request).await.expect("approved and sealed through signing");
    let sealed = approved.into_inner().dossier.and_then(|dossier| dossier.result).expect("a result");
    assert!(!sealed.seal_signature.is_empty(), "{sealed:?}");

    let request = intake_pb::ReturnResultRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: people::actor(OFFICER),
        return_method: intake_pb::ReturnMethod::Electronic as i32,
        reason: String::new(),
    };
    intake.return_result(request).await.expect("returned");

    let request =
        intake_pb::GetDocumentRequest { name: sealed.document.clone(), view: intake_pb::DocumentView::Full as i32 };
    let document = intake.get_document(request).await.expect("the result document").into_inner();
    assert_eq!(document.content, rendered.content, "the stored result is the rendered PDF, byte for byte");

    let mut signing = counter.signing(cluster).await;
    let request = signing_pb::GetCertificateAuthorityRequest { name: format!("authorities/{}", BRANCH.to_lowercase()) };
    let authority = signing.get_certificate_authority(request).await.expect("the branch authority").into_inner();
    let request = signing_pb::GetCertificateRequest { name: authority.certificate };
    let chain = signing.get_certificate(request).await.expect("its certificate").into_inner().chain_pem;

    let folder = cluster.pki.folder.join("demo");
    std::fs::create_dir_all(&folder).expect("a folder for the artifacts");
    std::fs::write(folder.join("chain.pem"), chain).expect("chain.pem");
    let mut signed = Vec::new();
    for (file, signature) in [("officer.p7s", &sealed.officer_signature), ("seal.p7s", &sealed.seal_signature)] {
        check_signature(&mut signing, &folder, ("result.pdf", &document.content), file, signature).await;
        signed.push(signature.clone());
    }

    // The slip and the fee receipt intake's jobs issued: each signed over its XML, as VERIFY.md checks.
    let dossier = counter.dossier(cluster, 0, code).await;
    let mut receipts = counter.receipt(cluster, 0).await;
    for kind in [intake_pb::FollowUpKind::AcknowledgementSlip, intake_pb::FollowUpKind::FeeReceipt] {
        let job = dossier.follow_ups.iter().find(|job| job.kind() == kind);
        let name = job.map(|job| job.result.clone()).unwrap_or_else(|| panic!("{kind:?}: {:?}", dossier.follow_ups));
        let request = receipt_pb::GetReceiptRequest { name: name.clone() };
        let receipt = receipts.get_receipt(request).await.expect("the receipt").into_inner();
        let signature = receipt.signature.map(|signature| signature.signature).expect("a signed receipt");
        let request = receipt_pb::RenderReceiptRequest { name, format: receipt_pb::RenderFormat::Xml as i32 };
        let xml = receipts.render_receipt(request).await.expect("its XML").into_inner().content;
        let (content, file) = (format!("{kind:?}.xml"), format!("{kind:?}.p7s"));
        check_signature(&mut signing, &folder, (&content, &xml), &file, &signature).await;
        signed.push(signature);
    }
    check_inclusion(&mut signing, &signed).await;
}

/// Writes `content` and the CMS of `signature` into `folder`, and has OpenSSL verify it against
/// `chain.pem` there, and refuse it once a byte of the content changes.
async fn check_signature(
    signing: &mut SigningServiceClient<Channel>,
    folder: &Path,
    (content_file, content): (&str, &[u8]),
    file: &str,
    signature: &str,
) {
    std::fs::write(folder.join(content_file), content).expect("the content");
    let mut changed = content.to_vec();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(folder.join("changed"), changed).expect("the changed content");
    let request = signing_pb::GetSignatureRequest { name: signature.to_owned() };
    let cms = signing.get_signature(request).await.expect("the signature").into_inner().cms_der;
    std::fs::write(folder.join(file), cms).expect("the CMS");
    let (verified, output) = openssl_verify(folder, content_file, file);
    assert!(verified, "{file} verifies over {content_file} against chain.pem:\n{output}");
    let (verified, output) = openssl_verify(folder, "changed", file);
    assert!(!verified, "{file} must not verify over a changed byte of {content_file}:\n{output}");
}

/// Waits for a checkpoint that covers every one of `signatures`, checks its Ed25519 signature under
/// the log's verifier key, and each signature's inclusion proof against its root, by the kit's own
/// RFC 9162 computation.
async fn check_inclusion(signing: &mut SigningServiceClient<Channel>, signatures: &[String]) {
    let mut last = 0;
    for name in signatures {
        let request = signing_pb::GetSignatureRequest { name: name.clone() };
        last = last.max(signing.get_signature(request).await.expect("the signature").into_inner().log_index);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        let response = signing.get_checkpoint(signing_pb::GetCheckpointRequest {}).await;
        let response = response.expect("a checkpoint").into_inner();
        if response.tree_size > last {
            break response;
        }
        assert!(Instant::now() < deadline, "no checkpoint covered log index {last} within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let checkpoint = verify_checkpoint(&response.checkpoint, &response.verifier_key).expect("a signed checkpoint");
    assert_eq!(checkpoint.tree_size, response.tree_size as u64);
    for name in signatures {
        let leaf = Some(signing_pb::get_inclusion_proof_request::Leaf::Signature(name.clone()));
        let request = signing_pb::GetInclusionProofRequest { leaf, tree_size: response.tree_size };
        let proof = signing.get_inclusion_proof(request).await.expect("an inclusion proof").into_inner();
        let (index, hashes) = (proof.leaf_index as u64, proof_hashes(&proof.hashes));
        let root = root_from_inclusion_proof(index, checkpoint.tree_size, leaf_hash(&proof.leaf_data), &hashes);
        assert_eq!(root, Some(checkpoint.root), "{name}: leaf {index} is in the checkpoint's tree");
    }
}
