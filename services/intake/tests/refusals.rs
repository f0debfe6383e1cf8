//! What intake refuses rather than silently drops, and how it names what it does not know, on SQLite
//! and PostgreSQL: a component given as a file, and unknown branches, procedures, components and
//! documents each answer INVALID_ARGUMENT with a reason of their own and a field violation naming the
//! field (docs/api.md, "Unknown resources").

use motcua_chassis::testing::{on_every_database, start_service};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::Channel,
    intake::v1::{self as pb, submitted_component::Content},
};
use motcua_testkit::{clients, dossiers::filing};
use tonic::Code;
use tonic_types::StatusExt;

/// The code, the ErrorInfo reason and the fields of the field violations of a refusal.
fn refusal(status: &tonic::Status) -> (Code, String, Vec<(String, String)>) {
    let details = status.get_error_details();
    let reason = details.error_info().map(|info| info.reason.clone()).unwrap_or_default();
    let violations = details
        .bad_request()
        .map(|bad| bad.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect())
        .unwrap_or_default();
    (status.code(), reason, violations)
}

fn pdf() -> pb::DocumentFile {
    pb::DocumentFile {
        file_name: "to-khai.pdf".to_owned(),
        media_type: "application/pdf".to_owned(),
        content: b"%PDF-1.7 the form".to_vec(),
        extracted_fields: Vec::new(),
    }
}

async fn count_dossiers(intake: &mut clients::Intake) -> usize {
    intake.list_dossiers(pb::ListDossiersRequest::default()).await.expect("listed").into_inner().dossiers.len()
}

#[tokio::test]
async fn a_component_given_as_a_file_is_refused_naming_the_component_never_dropped() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let component_code = request.components[0].component_code.clone();
        request.components[0].content = Some(Content::File(pdf()));

        let status = intake.create_dossier(request).await.expect_err("a file component is not stored yet");
        let (code, reason, violations) = refusal(&status);
        assert_eq!((code, reason.as_str()), (Code::InvalidArgument, "FILE_NOT_SUPPORTED"));
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].0, "components[0].file");
        assert!(violations[0].1.contains(&component_code), "names the component: {}", violations[0].1);
        assert_eq!(count_dossiers(&mut intake).await, 0, "no dossier was filed without its file");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn unknown_branches_procedures_components_and_documents_each_have_their_reason() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let valid = filing(&mut intake, "CN01", Channel::InPerson, "001099012347").await;
        let refused = async |intake: &mut clients::Intake, request: pb::CreateDossierRequest| {
            refusal(&intake.create_dossier(request).await.expect_err("refused"))
        };

        let (code, reason, violations) =
            refused(&mut intake, pb::CreateDossierRequest { branch_code: "CN99".to_owned(), ..valid.clone() }).await;
        assert_eq!(
            (code, reason.as_str(), violations[0].0.as_str()),
            (Code::InvalidArgument, "UNKNOWN_BRANCH", "branch_code")
        );

        let unknown_procedure = pb::CreateDossierRequest { procedure_code: "9.999999".to_owned(), ..valid.clone() };
        let (code, reason, violations) = refused(&mut intake, unknown_procedure).await;
        assert_eq!(
            (code, reason.as_str(), violations[0].0.as_str()),
            (Code::InvalidArgument, "UNKNOWN_PROCEDURE", "procedure_code")
        );

        let mut unknown_component = valid.clone();
        unknown_component
            .components
            .push(pb::SubmittedComponent { component_code: "TP99".to_owned(), ..Default::default() });
        let (code, reason, violations) = refused(&mut intake, unknown_component).await;
        let field = format!("components[{}].component_code", valid.components.len());
        assert_eq!(
            (code, reason.as_str(), violations[0].0.clone()),
            (Code::InvalidArgument, "UNKNOWN_COMPONENT", field)
        );

        let mut unknown_document = valid.clone();
        unknown_document.components[0].content =
            Some(Content::StoredDocument("documents/00000000-0000-4000-8000-000000000000".to_owned()));
        let (code, reason, violations) = refused(&mut intake, unknown_document).await;
        assert_eq!(
            (code, reason.as_str(), violations[0].0.as_str()),
            (Code::InvalidArgument, "UNKNOWN_DOCUMENT", "components[0].stored_document")
        );

        // The dossier the call addresses is another matter: NOT_FOUND, with its type and name.
        let missing = "dossiers/000.01.12.H26-000101-9999";
        let status = intake
            .get_dossier(pb::GetDossierRequest { name: missing.to_owned(), view: 0 })
            .await
            .expect_err("no such dossier");
        assert_eq!(status.code(), Code::NotFound);
        let resource = status.get_error_details().resource_info().cloned().expect("a ResourceInfo");
        assert_eq!(
            (resource.resource_type.as_str(), resource.resource_name.as_str()),
            ("motcua.intake.v1.Dossier", missing)
        );
        server.stop().await.expect("clean stop");
    })
    .await;
}
