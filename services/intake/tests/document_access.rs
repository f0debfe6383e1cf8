//! Who reaches the applicants' documents, on SQLite and PostgreSQL: the center's staff every one; an
//! agency the policy limits to its procedures only the documents of dossiers it may read (by their
//! origin dossier), adding one only to such a dossier, and never an applicant's whole data store.

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{as_identity, on_every_database, start_service_with},
};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::{Channel, CopyKind},
    intake::v1 as pb,
};
use motcua_testkit::{
    clients,
    dossiers::{PROCEDURE, filing},
    people::officer,
    request_id,
    status::reason,
};
use tonic::Code;

const STAFF: &str = "staff/mot-cua";
const OWN_AGENCY: &str = "agency/so-tu-phap";
const OTHER_AGENCY: &str = "agency/so-y-te";

fn policy() -> String {
    format!(
        "identities:\n  dev/anonymous:\n    rpcs: [\"motcua.intake.v1.IntakeService/GetProcedure\"]\n  {STAFF}:\n    rpcs: [\"*\"]\n  {OWN_AGENCY}:\n    rpcs: [\"motcua.intake.v1.IntakeService/*\"]\n    procedures: [\"{PROCEDURE}\"]\n  {OTHER_AGENCY}:\n    rpcs: [\"motcua.intake.v1.IntakeService/*\"]\n    procedures: [\"2.000001\"]\n"
    )
}

fn owner(identity_number: &str) -> Option<pb::ApplicantKey> {
    Some(pb::ApplicantKey { key: Some(pb::applicant_key::Key::IdentityNumber(identity_number.to_owned())) })
}

fn document(identity_number: &str, origin_dossier_code: &str) -> pb::AddDocumentRequest {
    pb::AddDocumentRequest {
        request_id: request_id(),
        owner: owner(identity_number),
        title: "Giấy khai sinh".to_owned(),
        document_type: "giay_khai_sinh".to_owned(),
        source: pb::DocumentSource::Scan as i32,
        copy_kind: CopyKind::Electronic as i32,
        file: Some(pb::DocumentFile {
            file_name: "khai-sinh.pdf".to_owned(),
            media_type: "application/pdf".to_owned(),
            content: b"%PDF-1.7 scanned birth certificate".to_vec(),
            extracted_fields: Vec::new(),
        }),
        issuer: "UBND phường Tràng Tiền".to_owned(),
        issue_date: None,
        expiry_date: None,
        origin_dossier_code: origin_dossier_code.to_owned(),
        actor: Some(officer("CB020")),
    }
}

#[tokio::test]
async fn an_agency_reaches_only_the_documents_of_dossiers_it_may_read() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-document-access-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy_file = folder.join("policy.yaml");
        std::fs::write(&policy_file, policy()).expect("the policy is written");
        let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
        config.policy_file = Some(policy_file);
        let server = start_service_with::<Intake>(config).await;
        let mut intake = clients::intake(server.local_addr).await;

        let filing = filing(&mut intake, "CN01", Channel::InPerson, "001099055501").await;
        let dossier = intake.create_dossier(as_identity(STAFF, filing)).await.expect("filed").into_inner();
        let dossier_code = dossier.dossier.expect("a dossier").dossier_code;

        // The center's staff adds one document of the dossier and one of no dossier.
        let of_dossier = intake
            .add_document(as_identity(STAFF, document("001099055501", &dossier_code)))
            .await
            .expect("added")
            .into_inner()
            .document
            .expect("a document");
        let loose = intake
            .add_document(as_identity(STAFF, document("001099055501", "")))
            .await
            .expect("added")
            .into_inner()
            .document
            .expect("a document");

        // The agency of the dossier's procedure reads its document, adds to it, but not the loose one.
        let get = |name: &str| pb::GetDocumentRequest { name: name.to_owned(), view: pb::DocumentView::Full as i32 };
        intake.get_document(as_identity(OWN_AGENCY, get(&of_dossier.name))).await.expect("the dossier's document");
        intake
            .add_document(as_identity(OWN_AGENCY, document("001099055501", &dossier_code)))
            .await
            .expect("added by the agency");
        let refused =
            intake.get_document(as_identity(OWN_AGENCY, get(&loose.name))).await.expect_err("a loose document");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "DOCUMENT_NOT_ALLOWED"));

        // Another agency reaches neither, and adds nothing to a dossier it may not read.
        for name in [&of_dossier.name, &loose.name] {
            let refused =
                intake.get_document(as_identity(OTHER_AGENCY, get(name))).await.expect_err("another agency's");
            assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "DOCUMENT_NOT_ALLOWED"));
        }
        let refused = intake
            .add_document(as_identity(OTHER_AGENCY, document("001099055501", &dossier_code)))
            .await
            .expect_err("not its dossier");
        assert_eq!(reason(&refused), "DOCUMENT_NOT_ALLOWED", "{}", database.backend);

        // Nobody limited by the policy lists an applicant's whole data store; the staff does.
        let list = || pb::ListApplicantDocumentsRequest { owner: owner("001099055501"), ..Default::default() };
        let refused = intake.list_applicant_documents(as_identity(OWN_AGENCY, list())).await.expect_err("an agency");
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "DOCUMENTS_NOT_ALLOWED"));
        let listed = intake.list_applicant_documents(as_identity(STAFF, list())).await.expect("the staff").into_inner();
        assert_eq!(listed.documents.len(), 3, "{}", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}
