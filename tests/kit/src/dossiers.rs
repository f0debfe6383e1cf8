//! A dossier filed at intake: the procedure the tests file under, its required components as
//! originals, and the filing of a citizen's dossier.

use motcua_proto::motcua::{
    common::v1::{Channel, CopyKind},
    intake::v1 as pb,
};

use crate::{clients, people, request_id};

/// A commune-level procedure of the built-in catalogue with a limit of 10 working days and one
/// required component: whatever the hour a test runs, a dossier filed now is due days later, so
/// nothing is overdue by accident.
pub const PROCEDURE: &str = "1.012822";

/// Every required component of `procedure_code`, one original each, as intake's catalogue lists them.
pub async fn required_components(intake: &mut clients::Intake, procedure_code: &str) -> Vec<pb::SubmittedComponent> {
    let procedure = intake
        .get_procedure(pb::GetProcedureRequest { name: format!("procedures/{procedure_code}"), version: 0 })
        .await
        .expect("the catalogue lists the procedure")
        .into_inner();
    procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| pb::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            copies: 1,
            ..Default::default()
        })
        .collect()
}

/// The filing of citizen `identity_number`'s dossier under [`PROCEDURE`] at `branch_code` through
/// `channel`, received by officer CB001, with every required component.
pub async fn filing(
    intake: &mut clients::Intake,
    branch_code: &str,
    channel: Channel,
    identity_number: &str,
) -> pb::CreateDossierRequest {
    pb::CreateDossierRequest {
        request_id: request_id(),
        branch_code: branch_code.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: channel as i32,
        applicant: Some(people::citizen(identity_number)),
        receiving_officer: people::actor("CB001"),
        components: required_components(intake, PROCEDURE).await,
    }
}

/// Files `request` and returns the dossier intake created.
pub async fn create(intake: &mut clients::Intake, request: pb::CreateDossierRequest) -> pb::Dossier {
    intake.create_dossier(request).await.expect("filed").into_inner().dossier.expect("a dossier")
}
