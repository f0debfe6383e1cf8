//! A dossier from filing to a signed, sealed, returned and rated result, across the real intake and
//! signing services: the officer signs, the branch leader seals, the result is returned, the applicant
//! rates it once.

use motcua_proto::motcua::{
    common::v1::{Channel, DossierStatus},
    intake::v1 as pb,
    signing::v1 as signing_pb,
};
use motcua_testkit::{
    TestDatabase,
    authorities::BranchDeployment,
    clients,
    dossiers::{create, filing},
    on_every_database,
    people::actor,
    request_id_for,
    services::{start_intake, url_of},
    start_service,
};
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_dossier_is_signed_sealed_returned_and_rated_once() {
    on_every_database(|intake_database| async move {
        let signing_database = TestDatabase::sqlite();
        let signing_server = start_service::<motcua_signing::Signing>(&signing_database).await;
        let mut signing = clients::signing(signing_server.local_addr).await;
        BranchDeployment::of("CN01").officer("CB001").leader("LD001").deploy(&mut signing).await;

        let intake_server = start_intake(&intake_database, &url_of(&signing_server)).await;
        let mut intake = clients::intake(intake_server.local_addr).await;

        let mut filing = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        filing.request_id = request_id_for("create");
        let dossier = create(&mut intake, filing).await;
        let name = dossier.name.clone();
        intake
            .start_processing(pb::StartProcessingRequest {
                request_id: request_id_for("start"),
                name: name.clone(),
                actor: actor("CB001"),
                ..Default::default()
            })
            .await
            .expect("processing");

        // Approval before the officer's signature is refused.
        let status = intake
            .approve_result(pb::ApproveResultRequest {
                request_id: request_id_for("early"),
                name: name.clone(),
                actor: actor("LD001"),
                reason: String::new(),
            })
            .await
            .expect_err("nothing signed yet");
        assert_eq!(status.code(), Code::FailedPrecondition);

        let resolve = pb::ResolveDossierRequest {
            request_id: request_id_for("resolve"),
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
                request_id: request_id_for("approve"),
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
                request_id: request_id_for("return"),
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
                request_id: request_id_for("rate"),
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
                request_id: request_id_for("rate-again"),
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
