//! The applicants' data stores over real gRPC, on SQLite and PostgreSQL: a digitized document is added
//! once, listed for its owner, cited by a later dossier instead of a new upload, and belongs to its
//! owner alone.

use motcua_chassis::testing::{on_every_database, start_service};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::{Channel, CopyKind},
    intake::v1 as pb,
};
use motcua_testkit::{clients, dossiers::filing, people::actor};
use tonic::Code;
use tonic_types::StatusExt;

fn owner(identity_number: &str) -> Option<pb::ApplicantKey> {
    Some(pb::ApplicantKey { key: Some(pb::applicant_key::Key::IdentityNumber(identity_number.to_owned())) })
}

fn add_request(request_id: &str, identity_number: &str, media_type: &str) -> pb::AddDocumentRequest {
    pb::AddDocumentRequest {
        request_id: request_id.to_owned(),
        owner: owner(identity_number),
        title: "Giấy khai sinh".to_owned(),
        document_type: "giay_khai_sinh".to_owned(),
        source: pb::DocumentSource::Scan as i32,
        copy_kind: CopyKind::Electronic as i32,
        file: Some(pb::DocumentFile {
            file_name: "khai-sinh.pdf".to_owned(),
            media_type: media_type.to_owned(),
            content: b"%PDF-1.7 scanned birth certificate".to_vec(),
            extracted_fields: vec![pb::ExtractedField {
                key: "so".to_owned(),
                label: "Số".to_owned(),
                value: "123/2020".to_owned(),
            }],
        }),
        issuer: "UBND phường Tràng Tiền".to_owned(),
        issue_date: None,
        expiry_date: None,
        origin_dossier_code: String::new(),
        actor: actor("CB020"),
    }
}

async fn file_citing(
    intake: &mut clients::Intake,
    request_id: &str,
    identity_number: &str,
    document: &str,
) -> Result<pb::Dossier, tonic::Status> {
    let mut request = filing(intake, "CN01", Channel::Online, identity_number).await;
    request.request_id = request_id.to_owned();
    request.receiving_officer = actor("CB020");
    for component in &mut request.components {
        component.copy_kind = CopyKind::Electronic as i32;
        component.content = Some(pb::submitted_component::Content::StoredDocument(document.to_owned()));
    }
    Ok(intake.create_dossier(request).await?.into_inner().dossier.unwrap_or_default())
}

#[tokio::test]
async fn a_stored_document_is_cited_by_a_dossier_instead_of_a_new_upload() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let added = intake
            .add_document(add_request("doc-1", "001099012345", "application/pdf"))
            .await
            .expect("added")
            .into_inner()
            .document
            .expect("document");
        let retried = intake
            .add_document(add_request("doc-1", "001099012345", "application/pdf"))
            .await
            .expect("retry")
            .into_inner()
            .document
            .expect("document");
        assert_eq!(added, retried, "{}: a retry returns the same document", database.backend);
        assert_eq!(added.sha256.len(), 32);
        assert!(added.content.is_empty(), "the basic view carries no bytes");

        let listed = intake
            .list_applicant_documents(pb::ListApplicantDocumentsRequest {
                owner: owner("001099012345"),
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        assert_eq!(listed.documents.len(), 1);
        let other_owner = intake
            .list_applicant_documents(pb::ListApplicantDocumentsRequest {
                owner: owner("001099054321"),
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        assert!(other_owner.documents.is_empty());

        let dossier = file_citing(&mut intake, "dossier-1", "001099012345", &added.name)
            .await
            .expect("filed citing the document");
        assert!(dossier.components.iter().all(|component| component.reused && component.digitized));
        let full = intake
            .get_document(pb::GetDocumentRequest { name: added.name.clone(), view: pb::DocumentView::Full as i32 })
            .await
            .expect("read")
            .into_inner();
        assert_eq!(full.content, b"%PDF-1.7 scanned birth certificate");
        assert_eq!(full.reuse_count, 1);
        assert_eq!(full.extracted_fields.len(), 1);

        // Another citizen cannot cite it.
        let status = file_citing(&mut intake, "dossier-2", "001099054321", &added.name).await.expect_err("not theirs");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert!(violations.iter().all(|violation| violation.field.ends_with(".stored_document")));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_data_store_takes_documents_and_scans_but_nothing_else() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let status = intake
            .add_document(add_request("doc-x", "001099012345", "application/x-msdownload"))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let field = &details.bad_request().expect("BadRequest").field_violations[0].field;
        assert_eq!(field, "file.media_type", "{}", database.backend);
        let status = intake
            .get_document(pb::GetDocumentRequest {
                name: "documents/6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b".to_owned(),
                view: 0,
            })
            .await
            .expect_err("no such document");
        assert_eq!(status.code(), Code::NotFound);
        server.stop().await.expect("clean stop");
    })
    .await;
}
