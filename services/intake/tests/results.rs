//! A dossier's result over real gRPC with a real signing service, on SQLite and PostgreSQL: the
//! document is stored once, in the move that records its signature; a signing service that is down
//! makes ResolveDossier UNAVAILABLE with RetryInfo and leaves nothing half-made, and the same request
//! completes once signing is back; signature and seal cover exactly the stored bytes.

use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::{
    common::v1::{Channel, DossierStatus},
    intake::v1 as pb,
    signing::v1 as signing_pb,
};
use motcua_testkit::{
    authorities::BranchDeployment,
    clients,
    dossiers::{create, filing},
    people::actor,
    request_id,
    services::{another_database, start_intake, start_signing, start_signing_at, url_of},
};
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic_types::StatusExt;

const BRANCH: &str = "CN07";
const OFFICER: &str = "CB071";
const LEADER: &str = "LD071";
const APPLICANT: &str = "001099070707";

/// The documents of the test's applicant in intake's data store.
async fn applicant_documents(intake: &mut clients::Intake) -> Vec<pb::Document> {
    let owner = pb::ApplicantKey { key: Some(pb::applicant_key::Key::IdentityNumber(APPLICANT.to_owned())) };
    intake
        .list_applicant_documents(pb::ListApplicantDocumentsRequest { owner: Some(owner), ..Default::default() })
        .await
        .expect("listed")
        .into_inner()
        .documents
}

async fn verify(
    signing: &mut clients::Signing,
    signature: &str,
    document: &[u8],
) -> signing_pb::VerifySignatureResponse {
    signing
        .verify_signature(signing_pb::VerifySignatureRequest {
            signature_source: Some(signing_pb::verify_signature_request::SignatureSource::Signature(
                signature.to_owned(),
            )),
            content: Some(signing_pb::verify_signature_request::Content::Document(document.to_vec())),
        })
        .await
        .expect("answered")
        .into_inner()
}

#[tokio::test]
async fn resolving_while_signing_is_down_stores_nothing_and_the_same_request_completes_once_signing_is_back() {
    on_every_database(|database| async move {
        let signing_database = another_database(&database).await;
        let signing_server = start_signing(&signing_database).await;
        let signing_addr = signing_server.local_addr;
        let mut signing = clients::signing(signing_addr).await;
        BranchDeployment::of(BRANCH).officer(OFFICER).leader(LEADER).deploy(&mut signing).await;
        let intake_server = start_intake(&database, &url_of(&signing_server)).await;
        let mut intake = clients::intake(intake_server.local_addr).await;
        let request = filing(&mut intake, BRANCH, Channel::InPerson, APPLICANT).await;
        let name = create(&mut intake, request).await.name;
        intake
            .start_processing(pb::StartProcessingRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor(OFFICER),
                ..Default::default()
            })
            .await
            .expect("processing");
        let before = intake.get_dossier(pb::GetDossierRequest { name: name.clone(), view: 0 }).await.expect("read");
        let before = before.into_inner();

        signing_server.stop().await.expect("signing stops");
        let pdf = b"%PDF-1.7\n% the result of the test dossier\n".to_vec();
        let resolve = pb::ResolveDossierRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
                file_name: "ket-qua.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: pdf.clone(),
                extracted_fields: Vec::new(),
            })),
            electronic: true,
            reason: String::new(),
        };
        let status = intake.resolve_dossier(resolve.clone()).await.expect_err("signing is down");
        assert_eq!(status.code(), Code::Unavailable, "{}: {status:?}", database.backend);
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "SIGNING_UNAVAILABLE");
        assert!(details.retry_info().is_some(), "UNAVAILABLE says when to retry: {status:?}");
        let unchanged = intake.get_dossier(pb::GetDossierRequest { name: name.clone(), view: 0 }).await.expect("read");
        let unchanged = unchanged.into_inner();
        assert_eq!(unchanged.status(), DossierStatus::Processing);
        assert!(unchanged.result.is_none(), "{}: no result without a signature", database.backend);
        assert_eq!(unchanged.history.len(), before.history.len(), "no move recorded");
        assert!(applicant_documents(&mut intake).await.is_empty(), "{}: no document row", database.backend);

        let _signing_server = start_signing_at(&signing_database, signing_addr).await;
        let resolved = intake.resolve_dossier(resolve.clone()).await.expect("the same request completes");
        let resolved = resolved.into_inner().dossier.expect("a dossier");
        let result = resolved.result.clone().expect("a result");
        assert!(result.document.starts_with("documents/"), "{result:?}");
        assert_eq!(result.document_sha256, Sha256::digest(&pdf).to_vec());
        assert!(result.officer_signature.starts_with("signatures/"));
        let again = intake.resolve_dossier(resolve).await.expect("a retry").into_inner().dossier.expect("a dossier");
        assert_eq!(again.result, resolved.result, "a retry answers the original response");

        let documents = applicant_documents(&mut intake).await;
        assert_eq!(documents.len(), 1, "{}: the result is stored once: {documents:?}", database.backend);
        assert_eq!(documents[0].name, result.document);
        let stored = intake
            .get_document(pb::GetDocumentRequest { name: result.document.clone(), view: pb::DocumentView::Full as i32 })
            .await
            .expect("the result document")
            .into_inner();
        assert_eq!(stored.content, pdf, "the stored bytes are the ones signed");
        assert_eq!(stored.source(), pb::DocumentSource::Result);
        assert_eq!(stored.origin_dossier_code, resolved.dossier_code);

        let approved = intake
            .approve_result(pb::ApproveResultRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor(LEADER),
                reason: String::new(),
            })
            .await
            .expect("approved and sealed")
            .into_inner()
            .dossier
            .expect("a dossier");
        let sealed = approved.result.expect("a result");
        assert_eq!(approved.status, DossierStatus::Resolved as i32);
        assert_eq!(sealed.document, result.document, "the seal names the same document");
        for signature in [&sealed.officer_signature, &sealed.seal_signature] {
            let outcome = verify(&mut signing, signature, &stored.content).await;
            assert!(outcome.valid, "{}: {signature} covers the stored bytes: {outcome:?}", database.backend);
            let mut changed = stored.content.clone();
            changed[0] ^= 1;
            assert!(!verify(&mut signing, signature, &changed).await.valid, "a changed byte fails");
        }
        intake_server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_result_may_cite_a_stored_result_document_of_the_applicant_but_not_another_kind() {
    on_every_database(|database| async move {
        let signing_database = another_database(&database).await;
        let signing_server = start_signing(&signing_database).await;
        let mut signing = clients::signing(signing_server.local_addr).await;
        BranchDeployment::of(BRANCH).officer(OFFICER).leader(LEADER).deploy(&mut signing).await;
        let intake_server = start_intake(&database, &url_of(&signing_server)).await;
        let mut intake = clients::intake(intake_server.local_addr).await;
        let request = filing(&mut intake, BRANCH, Channel::InPerson, APPLICANT).await;
        let dossier = create(&mut intake, request).await;
        intake
            .start_processing(pb::StartProcessingRequest {
                request_id: request_id(),
                name: dossier.name.clone(),
                actor: actor(OFFICER),
                ..Default::default()
            })
            .await
            .expect("processing");
        let add = |source: pb::DocumentSource, content: &[u8]| pb::AddDocumentRequest {
            request_id: request_id(),
            owner: Some(pb::ApplicantKey { key: Some(pb::applicant_key::Key::IdentityNumber(APPLICANT.to_owned())) }),
            title: "Kết quả".to_owned(),
            document_type: "ket_qua".to_owned(),
            source: source as i32,
            actor: actor(OFFICER),
            file: Some(pb::DocumentFile {
                file_name: "ket-qua.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: content.to_vec(),
                extracted_fields: Vec::new(),
            }),
            origin_dossier_code: dossier.dossier_code.clone(),
            ..Default::default()
        };
        let scan = intake.add_document(add(pb::DocumentSource::Scan, b"%PDF-1.7 scan")).await.expect("added");
        let scan = scan.into_inner().document.expect("a document").name;
        let result_pdf = b"%PDF-1.7 uploaded result".to_vec();
        let uploaded = intake.add_document(add(pb::DocumentSource::Result, &result_pdf)).await.expect("added");
        let uploaded = uploaded.into_inner().document.expect("a document").name;
        let resolve = |document: &str| pb::ResolveDossierRequest {
            request_id: request_id(),
            name: dossier.name.clone(),
            actor: actor(OFFICER),
            result_content: Some(pb::resolve_dossier_request::ResultContent::Document(document.to_owned())),
            electronic: true,
            reason: String::new(),
        };

        let refused = intake.resolve_dossier(resolve(&scan)).await.expect_err("a scan is not a result");
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert_eq!(refused.get_error_details().error_info().expect("ErrorInfo").reason, "INVALID_RESULT_DOCUMENT");
        let resolved = intake.resolve_dossier(resolve(&uploaded)).await.expect("resolved with the upload");
        let result = resolved.into_inner().dossier.and_then(|dossier| dossier.result).expect("a result");
        assert_eq!(result.document, uploaded);
        assert_eq!(result.document_sha256, Sha256::digest(&result_pdf).to_vec());
        assert_eq!(applicant_documents(&mut intake).await.len(), 2, "no copy of the cited document");
        assert!(verify(&mut signing, &result.officer_signature, &result_pdf).await.valid);
        intake_server.stop().await.expect("clean stop");
    })
    .await;
}
