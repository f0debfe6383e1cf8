//! A dossier from filing to a signed, sealed, returned and rated result, across the real intake and
//! signing services: the officer signs, the branch leader seals, the result is returned, the applicant
//! rates it once.

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{TestDatabase, on_every_database, start_service, start_service_with},
};
use motcua_intake::settings::ENV_INTAKE_SIGNING_URL;
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, Citizen, CopyKind, DossierStatus, applicant::Kind},
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
    signing::v1::{self as signing_pb, signing_service_client::SigningServiceClient},
};
use tonic::Code;
use tonic_types::StatusExt;

mod common;

use common::{PROCEDURE, actor, id, set_up_signers};

#[tokio::test]
async fn a_dossier_is_signed_sealed_returned_and_rated_once() {
    on_every_database(|intake_database| async move {
        let signing_database = TestDatabase::sqlite();
        let signing_server = start_service::<motcua_signing::Signing>(&signing_database).await;
        let mut signing = SigningServiceClient::connect(format!("http://{}", signing_server.local_addr))
            .await
            .expect("signing answers");
        set_up_signers(&mut signing).await;

        let mut config = ServiceConfig::for_local(ServiceKind::Intake, intake_database.url.clone());
        config.service_variables.insert(ENV_INTAKE_SIGNING_URL, format!("http://{}", signing_server.local_addr));
        let intake_server = start_service_with::<motcua_intake::Intake>(config).await;
        let mut intake =
            IntakeServiceClient::connect(format!("http://{}", intake_server.local_addr)).await.expect("intake answers");

        let procedure = intake
            .get_procedure(pb::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
            .await
            .expect("procedure")
            .into_inner();
        let dossier = intake
            .create_dossier(pb::CreateDossierRequest {
                request_id: id("create"),
                branch_code: "CN01".to_owned(),
                procedure_code: PROCEDURE.to_owned(),
                channel: Channel::InPerson as i32,
                applicant: Some(Applicant {
                    kind: Some(Kind::Citizen(Citizen {
                        identity_number: "001099012345".to_owned(),
                        full_name: "Vũ Thị Lan".to_owned(),
                        ..Default::default()
                    })),
                }),
                receiving_officer: actor("CB001"),
                components: procedure
                    .components
                    .iter()
                    .filter(|component| component.required)
                    .map(|component| pb::SubmittedComponent {
                        component_code: component.code.clone(),
                        copy_kind: CopyKind::Original as i32,
                        ..Default::default()
                    })
                    .collect(),
            })
            .await
            .expect("filed")
            .into_inner()
            .dossier
            .expect("dossier");
        let name = dossier.name.clone();
        intake
            .start_processing(pb::StartProcessingRequest {
                request_id: id("start"),
                name: name.clone(),
                actor: actor("CB001"),
                ..Default::default()
            })
            .await
            .expect("processing");

        // Approval before the officer's signature is refused.
        let status = intake
            .approve_result(pb::ApproveResultRequest {
                request_id: id("early"),
                name: name.clone(),
                actor: actor("LD001"),
                reason: String::new(),
            })
            .await
            .expect_err("nothing signed yet");
        assert_eq!(status.code(), Code::FailedPrecondition);

        let resolve = pb::ResolveDossierRequest {
            request_id: id("resolve"),
            name: name.clone(),
            actor: actor("CB001"),
            result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
                file_name: "giay-chung-nhan.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: b"%PDF-1.7 the result".to_vec(),
                ..Default::default()
            })),
            electronic: true,
            reason: String::new(),
        };
        let resolved =
            intake.resolve_dossier(resolve.clone()).await.expect("signed").into_inner().dossier.expect("dossier");
        let retried =
            intake.resolve_dossier(resolve).await.expect("retry answered").into_inner().dossier.expect("dossier");
        let result = resolved.result.clone().expect("a result");
        assert!(result.officer_signature.starts_with("signatures/"), "{}", intake_database.backend);
        assert_eq!(
            retried.result.expect("result").officer_signature,
            result.officer_signature,
            "a retry signs nothing twice"
        );
        assert_eq!(resolved.status(), DossierStatus::Processing);

        // A leader of the branch approves: the seal is applied and the dossier is resolved.
        let approved = intake
            .approve_result(pb::ApproveResultRequest {
                request_id: id("approve"),
                name: name.clone(),
                actor: actor("LD001"),
                reason: String::new(),
            })
            .await
            .expect("approved")
            .into_inner()
            .dossier
            .expect("dossier");
        assert_eq!(approved.status(), DossierStatus::Resolved);
        let sealed = approved.result.clone().expect("result");
        assert!(sealed.seal_signature.starts_with("signatures/"));
        assert!(sealed.seal_log_index > sealed.officer_signature_log_index);
        assert_ne!(approved.timeliness(), pb::Timeliness::Unspecified);

        // Signing agrees that the seal is valid.
        let verdict = signing
            .verify_signature(signing_pb::VerifySignatureRequest {
                signature_source: Some(signing_pb::verify_signature_request::SignatureSource::Signature(
                    sealed.seal_signature.clone(),
                )),
                content: Some(signing_pb::verify_signature_request::Content::DocumentSha256(
                    sealed.document_sha256.clone(),
                )),
            })
            .await
            .expect("verified")
            .into_inner();
        assert!(verdict.valid, "{verdict:?}");

        let returned = intake
            .return_result(pb::ReturnResultRequest {
                request_id: id("return"),
                name: name.clone(),
                actor: actor("CB001"),
                return_method: pb::ReturnMethod::Electronic as i32,
                reason: String::new(),
            })
            .await
            .expect("returned")
            .into_inner()
            .dossier
            .expect("dossier");
        assert_eq!(returned.status(), DossierStatus::Returned);

        let rating = intake
            .rate_dossier(pb::RateDossierRequest {
                request_id: id("rate"),
                name: name.clone(),
                rating: pb::Rating::Satisfied as i32,
                comment: "Nhanh gọn".to_owned(),
            })
            .await
            .expect("rated")
            .into_inner()
            .rating
            .expect("rating");
        assert_eq!(rating.rating(), pb::Rating::Satisfied);
        let status = intake
            .rate_dossier(pb::RateDossierRequest {
                request_id: id("rate-again"),
                name: name.clone(),
                rating: pb::Rating::Dissatisfied as i32,
                comment: String::new(),
            })
            .await
            .expect_err("once per dossier");
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "ALREADY_RATED");

        let full = intake.get_dossier(pb::GetDossierRequest { name, view: 0 }).await.expect("read").into_inner();
        let moves: Vec<_> = full.history.iter().map(|entry| entry.r#move()).collect();
        use pb::DossierMove::*;
        assert_eq!(moves, vec![Create, StartProcessing, Resolve, Approve, Return]);
        intake_server.stop().await.expect("intake stops");
        signing_server.stop().await.expect("signing stops");
    })
    .await;
}
