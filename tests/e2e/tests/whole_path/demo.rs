//! One dossier through the demo's path against the processes, as the counter application drives it
//! under mutual TLS: filed, its slip issued, processing, a result PDF rendered by receipt, resolved
//! with the officer's signature, approved with the branch seal, returned; both signatures are
//! verified with `openssl cms -verify` against the chain signing gives, and fail on a changed byte.

use std::{path::Path, process::Command};

use motcua_proto::motcua::{intake::v1 as intake_pb, receipt::v1 as receipt_pb, signing::v1 as signing_pb};
use motcua_testkit::{people, request_id};

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
    std::fs::write(folder.join("result.pdf"), &document.content).expect("result.pdf");
    std::fs::write(folder.join("chain.pem"), chain).expect("chain.pem");
    let mut changed = document.content.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(folder.join("changed.pdf"), changed).expect("changed.pdf");
    for (file, signature) in [("officer.p7s", &sealed.officer_signature), ("seal.p7s", &sealed.seal_signature)] {
        let request = signing_pb::GetSignatureRequest { name: signature.clone() };
        let cms = signing.get_signature(request).await.expect("the signature").into_inner().cms_der;
        std::fs::write(folder.join(file), cms).expect("the CMS");
        let (verified, output) = openssl_verify(&folder, "result.pdf", file);
        assert!(verified, "{file} verifies over result.pdf against chain.pem:\n{output}");
        let (verified, output) = openssl_verify(&folder, "changed.pdf", file);
        assert!(!verified, "{file} must not verify over a changed byte:\n{output}");
    }
}

/// `openssl cms -verify` of detached `signature` over `content` against `chain.pem` in `folder`.
fn openssl_verify(folder: &Path, content: &str, signature: &str) -> (bool, String) {
    let output = Command::new("openssl")
        .current_dir(folder)
        .args(["cms", "-verify", "-binary", "-content", content, "-inform", "DER", "-in", signature])
        .args(["-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"])
        .output()
        .expect("openssl runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}
