//! Dossiers over real gRPC, on SQLite and PostgreSQL: filing with validation and retries, codes and
//! appointments, the lifecycle moves and their records, listings, complaints, and the event feed.

use std::collections::{BTreeMap, HashSet};

use motcua_chassis::testing::{TestDatabase, on_every_database, start_service};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, DossierStatus, Money, Organisation, applicant::Kind},
    intake::v1::{self as pb, intake_event::Payload},
};
use motcua_testkit::{
    clients,
    dossiers::{PROCEDURE, create, filing, required_components},
    people::{citizen, officer},
    request_id,
};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_dossier_filed_in_person_is_received_with_code_appointment_and_history() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let dossier = create(&mut intake, request).await;

        assert_eq!(dossier.status(), DossierStatus::Received, "{}", database.backend);
        let code = &dossier.dossier_code;
        assert!(code.starts_with("000.01.12.H26-"), "{code}");
        assert!(code.ends_with("-0001"), "the branch's first dossier of the day: {code}");
        assert_eq!(dossier.name, format!("dossiers/{code}"));
        assert_eq!(dossier.procedure_version, 1);
        assert!(dossier.appointment_time.is_some() && dossier.receive_time.is_some());
        assert!(!dossier.overdue);

        let full = intake
            .get_dossier(pb::GetDossierRequest { name: dossier.name.clone(), view: 0 })
            .await
            .expect("read back")
            .into_inner();
        assert_eq!(full.history.len(), 1);
        assert_eq!(full.history[0].r#move(), pb::DossierMove::Create);
        assert_eq!(full.history[0].to_status(), DossierStatus::Received);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_retry_returns_the_original_dossier_and_a_reused_request_id_is_refused() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN02", Channel::InPerson, "001099012345").await;
        let first = create(&mut intake, request.clone()).await;
        let retry = create(&mut intake, request.clone()).await;
        assert_eq!(first, retry, "{}: a retry answers with the original", database.backend);

        let other_body = pb::CreateDossierRequest { branch_code: "CN03".to_owned(), ..request };
        let status = intake.create_dossier(other_body).await.expect_err("same id, other body");
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "REQUEST_ID_REUSED");

        let listed = intake
            .list_dossiers(pb::ListDossiersRequest { branch_code: "CN02".to_owned(), ..Default::default() })
            .await
            .expect("list")
            .into_inner();
        assert_eq!(listed.dossiers.len(), 1, "one dossier, however many retries");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn missing_components_and_invalid_applicants_are_field_violations() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let required = required_components(&mut intake, PROCEDURE).await;
        assert!(!required.is_empty());

        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        request.components.clear();
        let status = intake.create_dossier(request).await.expect_err("components missing");
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "MISSING_COMPONENTS");
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations.len(), required.len(), "one violation per missing component");
        for component in &required {
            assert!(violations.iter().any(|violation| violation.description.contains(&component.component_code)));
        }

        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "12345").await;
        request.applicant = Some(citizen("12345"));
        let status = intake.create_dossier(request).await.expect_err("bad identity number");
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "INVALID_APPLICANT");
        let violation = &details.bad_request().expect("BadRequest").field_violations[0];
        assert_eq!(violation.field, "applicant.citizen.identity_number");
        assert!(!status.message().contains("12345"), "the value is never echoed");

        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        request.applicant = Some(Applicant {
            kind: Some(Kind::Organisation(Organisation {
                tax_code: "0100109107".to_owned(),
                name: "Công ty TNHH Ví dụ".to_owned(),
                ..Default::default()
            })),
        });
        let status = intake.create_dossier(request).await.expect_err("bad check digit");
        assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "INVALID_APPLICANT");
        server.stop().await.expect("clean stop");
    })
    .await;
}

async fn act<T>(result: Result<tonic::Response<T>, tonic::Status>) -> T {
    result.expect("move allowed").into_inner()
}

#[tokio::test]
async fn an_online_dossier_moves_through_the_lifecycle_and_every_move_is_recorded() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN04", Channel::Online, "001099012345").await;
        let dossier = create(&mut intake, request).await;
        assert_eq!(dossier.status(), DossierStatus::Registered);
        assert!(dossier.appointment_time.is_none(), "no appointment before acceptance");
        let name = dossier.name.clone();
        let actor = Some(officer("CB002"));

        let accepted = act(intake
            .accept_dossier(pb::AcceptDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                reason: String::new(),
            })
            .await)
        .await;
        assert_eq!(accepted.dossier.as_ref().map(|dossier| dossier.status()), Some(DossierStatus::Received));
        assert!(accepted.dossier.as_ref().is_some_and(|dossier| dossier.appointment_time.is_some()));

        act(intake
            .start_processing(pb::StartProcessingRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                processing_unit: Some(pb::HandOverParty {
                    unit_code: "TP".to_owned(),
                    unit_name: "Phòng Tư pháp".to_owned(),
                    officer: None,
                }),
                ..Default::default()
            })
            .await)
        .await;
        let transferred = act(intake
            .transfer_dossier(pb::TransferDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                to: Some(pb::HandOverParty {
                    unit_code: "UB".to_owned(),
                    unit_name: "Lãnh đạo UBND".to_owned(),
                    officer: None,
                }),
                ..Default::default()
            })
            .await)
        .await;
        assert_eq!(transferred.hand_over.as_ref().map(|hand_over| hand_over.sequence), Some(2));
        assert_eq!(transferred.hand_over.as_ref().map(|hand_over| hand_over.timeliness()), Some(pb::Timeliness::Early));

        act(intake
            .request_supplement(pb::RequestSupplementRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                reason: "Thiếu bản sao giấy chứng sinh".to_owned(),
                requested_components: vec![pb::RequestedComponent {
                    component_code: String::new(),
                    note: "Bản sao".to_owned(),
                }],
            })
            .await)
        .await;
        let components = required_components(&mut intake, PROCEDURE).await;
        let supplemented = act(intake
            .supplement_dossier(pb::SupplementDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                components,
                reason: String::new(),
            })
            .await)
        .await
        .dossier
        .expect("dossier");
        assert_eq!(supplemented.status(), DossierStatus::Processing, "back to the status before the request");
        assert_eq!(supplemented.supplement_request_count, 1);

        act(intake
            .request_payment(pb::RequestPaymentRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                items: vec![pb::FeeItem {
                    name: "Lệ phí".to_owned(), amount: Some(Money { dong: 8_000 }), moment: 0
                }],
                reason: String::new(),
            })
            .await)
        .await;
        act(intake
            .confirm_payment(pb::ConfirmPaymentRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                receipt: String::new(),
                reason: String::new(),
            })
            .await)
        .await;

        // A result can only be returned once resolved; a forbidden move is a precondition failure.
        let status = intake
            .return_result(pb::ReturnResultRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                return_method: 1,
                reason: String::new(),
            })
            .await
            .expect_err("not resolved yet");
        assert_eq!(status.code(), Code::FailedPrecondition);
        let status = intake
            .accept_dossier(pb::AcceptDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                reason: String::new(),
            })
            .await
            .expect_err("already accepted");
        assert_eq!(status.code(), Code::FailedPrecondition);
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "INVALID_STATUS_TRANSITION");
        assert_eq!(details.precondition_failure().expect("PreconditionFailure").violations[0].r#type, "STATUS");

        let stopped = act(intake
            .stop_dossier(pb::StopDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: actor.clone(),
                reason: "Hồ sơ không đủ điều kiện".to_owned(),
            })
            .await)
        .await
        .dossier
        .expect("dossier");
        assert_eq!(stopped.status(), DossierStatus::Stopped);
        assert!(stopped.end_time.is_some() && stopped.timeliness() != pb::Timeliness::Unspecified);

        let full =
            intake.get_dossier(pb::GetDossierRequest { name: name.clone(), view: 0 }).await.expect("read").into_inner();
        let moves: Vec<_> = full.history.iter().map(|entry| entry.r#move()).collect();
        use pb::DossierMove::*;
        assert_eq!(
            moves,
            vec![
                Create,
                Accept,
                StartProcessing,
                Transfer,
                RequestSupplement,
                Supplement,
                RequestPayment,
                ConfirmPayment,
                Stop
            ]
        );
        assert!(
            full.history
                .iter()
                .skip(1)
                .all(|entry| entry.actor.as_ref().is_some_and(|actor| actor.officer_id == "CB002"))
        );
        assert_eq!(full.hand_overs.len(), 2);
        assert_eq!(full.supplements.len(), 1);
        assert!(full.supplements[0].supplement_time.is_some());
        assert_eq!(full.payments[0].total, Some(Money { dong: 8_000 }));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_second_supplement_request_makes_the_dossier_late() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN05", Channel::InPerson, "001099012345").await;
        let name = create(&mut intake, request).await.name;
        let actor = Some(officer("CB003"));
        for _ in 0..2 {
            act(intake
                .request_supplement(pb::RequestSupplementRequest {
                    request_id: request_id(),
                    name: name.clone(),
                    actor: actor.clone(),
                    reason: "Bổ sung".to_owned(),
                    requested_components: vec![pb::RequestedComponent {
                        component_code: String::new(),
                        note: "Bản sao".to_owned(),
                    }],
                })
                .await)
            .await;
            let components = required_components(&mut intake, PROCEDURE).await;
            act(intake
                .supplement_dossier(pb::SupplementDossierRequest {
                    request_id: request_id(),
                    name: name.clone(),
                    actor: actor.clone(),
                    components,
                    reason: String::new(),
                })
                .await)
            .await;
        }
        let stopped = act(intake
            .stop_dossier(pb::StopDossierRequest { request_id: request_id(), name, actor, reason: "Dừng".to_owned() })
            .await)
        .await
        .dossier
        .expect("dossier");
        assert_eq!(stopped.supplement_request_count, 2);
        assert_eq!(stopped.timeliness(), pb::Timeliness::Late, "{}", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn listings_filter_by_branch_status_and_applicant_and_page_through_everything() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        for (branch, identity) in
            [("CN06", "001099000001"), ("CN06", "001099000002"), ("CN07", "001099000001"), ("CN06", "001099000001")]
        {
            let request = filing(&mut intake, branch, Channel::InPerson, identity).await;
            create(&mut intake, request).await;
        }
        let list = |request: pb::ListDossiersRequest| {
            let mut intake = intake.clone();
            async move { intake.list_dossiers(request).await.expect("list").into_inner() }
        };
        assert_eq!(
            list(pb::ListDossiersRequest { branch_code: "CN06".to_owned(), ..Default::default() }).await.dossiers.len(),
            3
        );
        let by_applicant = list(pb::ListDossiersRequest {
            applicant: Some(pb::ApplicantKey {
                key: Some(pb::applicant_key::Key::IdentityNumber("001099000001".to_owned())),
            }),
            ..Default::default()
        })
        .await;
        assert_eq!(by_applicant.dossiers.len(), 3, "{}", database.backend);
        let received =
            list(pb::ListDossiersRequest { status: DossierStatus::Received as i32, ..Default::default() }).await;
        assert_eq!(received.dossiers.len(), 4);
        let overdue = list(pb::ListDossiersRequest { overdue_only: true, ..Default::default() }).await;
        assert!(overdue.dossiers.is_empty(), "nothing is past its appointment yet");

        let mut seen = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = list(pb::ListDossiersRequest { page_size: 3, page_token, ..Default::default() }).await;
            seen.extend(page.dossiers.into_iter().map(|dossier| dossier.dossier_code));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        assert_eq!(seen.len(), 4);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 4);

        let status = intake
            .list_dossiers(pb::ListDossiersRequest { status: 42, ..Default::default() })
            .await
            .expect_err("no status 42");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.get_error_details().bad_request().expect("BadRequest").field_violations[0].field, "status");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn complaints_are_recorded_on_the_dossier() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN08", Channel::InPerson, "001099012345").await;
        let name = create(&mut intake, request).await.name;
        let feedback = intake
            .create_feedback(pb::CreateFeedbackRequest {
                request_id: request_id(),
                parent: name.clone(),
                kind: pb::FeedbackKind::Complaint as i32,
                content: "Chờ quá lâu".to_owned(),
                recorded_by: None,
            })
            .await
            .expect("recorded")
            .into_inner()
            .feedback
            .expect("feedback");
        assert_eq!(feedback.name, format!("{name}/feedback/1"));
        let dossier = intake.get_dossier(pb::GetDossierRequest { name, view: 0 }).await.expect("read").into_inner();
        assert_eq!(dossier.feedback.len(), 1, "{}", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}

/// Files `request`, retrying (same request id) while intake answers UNAVAILABLE, as a client must: a
/// twin of the request still in flight on another replica is REQUEST_IN_PROGRESS.
async fn file_retrying(intake: &mut clients::Intake, request: &pb::CreateDossierRequest) -> pb::CreateDossierResponse {
    for _ in 0..100 {
        match intake.create_dossier(request.clone()).await {
            Ok(response) => return response.into_inner(),
            Err(status) if status.code() == Code::Unavailable => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(status) => panic!("filing failed: {status:?}"),
        }
    }
    panic!("intake stayed unavailable for two seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_clients_on_two_replicas_file_two_thousand_dossiers_with_retries_and_codes_stay_unique_and_gap_free() {
    on_every_database(|database| async move {
        const CLIENTS: usize = 8;
        const PER_CLIENT: usize = 250;
        // Two replicas of intake on one database, as Kubernetes runs them.
        let replicas = [start_service::<Intake>(&database).await, start_service::<Intake>(&database).await];
        let mut intake = clients::intake(replicas[0].local_addr).await;
        let other = clients::intake(replicas[1].local_addr).await;
        let components = required_components(&mut intake, PROCEDURE).await;
        let mut clients = Vec::new();
        for client_number in 0..CLIENTS {
            let (mut mine, mut theirs) =
                if client_number % 2 == 0 { (intake.clone(), other.clone()) } else { (other.clone(), intake.clone()) };
            let components = components.clone();
            clients.push(tokio::spawn(async move {
                let mut codes = Vec::new();
                for index in 0..PER_CLIENT {
                    // Two branches with their own agency codes, so numbering is per agency.
                    let branch = if (client_number + index) % 2 == 0 { "CN10" } else { "CN11" };
                    let request = pb::CreateDossierRequest {
                        request_id: format!("load-{client_number}-{index}"),
                        branch_code: branch.to_owned(),
                        procedure_code: PROCEDURE.to_owned(),
                        channel: Channel::InPerson as i32,
                        applicant: Some(citizen("001099012345")),
                        receiving_officer: Some(officer("CB009")),
                        components: components.clone(),
                    };
                    // Every third call is sent twice at once, to both replicas, as a client on a flaky
                    // line retrying through the load balancer would.
                    let first = if index % 3 == 0 {
                        let (a, b) =
                            tokio::join!(file_retrying(&mut mine, &request), file_retrying(&mut theirs, &request));
                        assert_eq!(a, b, "both answers are the one dossier");
                        a
                    } else {
                        file_retrying(&mut mine, &request).await
                    };
                    codes.push(first.dossier.expect("dossier").dossier_code);
                }
                codes
            }));
        }
        let mut codes = Vec::new();
        for client in clients {
            codes.extend(client.await.expect("client finished"));
        }
        assert_eq!(codes.len(), CLIENTS * PER_CLIENT);
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len(), "{}: unique codes", database.backend);

        let mut numbers: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for code in &codes {
            let (prefix, number) = code.rsplit_once('-').expect("code has a number");
            numbers.entry(prefix.to_owned()).or_default().push(number.parse().expect("a number"));
        }
        for (prefix, mut day_numbers) in numbers {
            day_numbers.sort_unstable();
            let expected: Vec<u32> = (1..=day_numbers.len() as u32).collect();
            assert_eq!(day_numbers, expected, "{}: {prefix} numbered 1..n without gaps", database.backend);
        }
        // Exactly one stored dossier per request id: page through them all.
        let mut stored = HashSet::new();
        let mut page_token = String::new();
        loop {
            let page = intake
                .list_dossiers(pb::ListDossiersRequest { page_size: 1000, page_token, ..Default::default() })
                .await
                .expect("list")
                .into_inner();
            for dossier in page.dossiers {
                assert!(stored.insert(dossier.dossier_code), "{}: a dossier listed twice", database.backend);
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        assert_eq!(stored.len(), CLIENTS * PER_CLIENT, "{}: exactly 2,000 dossiers stored", database.backend);
        for replica in replicas {
            replica.stop().await.expect("clean stop");
        }
    })
    .await;
}

#[tokio::test]
async fn the_event_feed_replays_then_follows_every_change_in_order() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN12", Channel::Online, "001099012345").await;
        let name = create(&mut intake, request).await.name;

        let mut feed =
            intake.watch_events(pb::WatchEventsRequest { after_sequence: 0 }).await.expect("feed").into_inner();
        act(intake
            .accept_dossier(pb::AcceptDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: Some(officer("CB010")),
                reason: String::new(),
            })
            .await)
        .await;

        let mut events = Vec::new();
        while events.len() < 2 {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
                .await
                .expect("an event in time")
                .expect("stream open")
                .expect("no error");
            if event.envelope.is_some() {
                events.push(event);
            }
        }
        let sequences: Vec<_> =
            events.iter().map(|event| event.envelope.as_ref().map_or(0, |envelope| envelope.sequence)).collect();
        assert_eq!(sequences, vec![1, 2], "{}", database.backend);
        assert!(matches!(events[0].payload, Some(Payload::DossierCreated(_))));
        assert!(matches!(events[1].payload, Some(Payload::DossierAccepted(_))));
        assert!(events.iter().all(|event| event.envelope.as_ref().is_some_and(|envelope| envelope.subject == name)));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn resolving_while_signing_is_down_is_unavailable_and_changes_nothing() {
    let database = TestDatabase::sqlite();
    // A port nothing listens on: bind one, then free it.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
    let mut config =
        motcua_chassis::ServiceConfig::for_local(motcua_chassis::ServiceKind::Intake, database.url.clone());
    config
        .service_variables
        .insert(motcua_intake::settings::ENV_INTAKE_SIGNING_URL, format!("http://127.0.0.1:{closed_port}"));
    let server = motcua_chassis::testing::start_service_with::<Intake>(config).await;
    let mut intake = clients::intake(server.local_addr).await;
    let request = filing(&mut intake, "CN13", Channel::InPerson, "001099012345").await;
    let name = create(&mut intake, request).await.name;
    let actor = Some(officer("CB011"));
    act(intake
        .start_processing(pb::StartProcessingRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor.clone(),
            ..Default::default()
        })
        .await)
    .await;

    let resolve = pb::ResolveDossierRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor.clone(),
        result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
            file_name: "ket-qua.pdf".to_owned(),
            media_type: "application/pdf".to_owned(),
            content: b"%PDF-1.7 result".to_vec(),
            extracted_fields: Vec::new(),
        })),
        electronic: true,
        reason: String::new(),
    };
    let status = intake.resolve_dossier(resolve).await.expect_err("signing is down");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "SIGNING_UNAVAILABLE");

    let dossier =
        intake.get_dossier(pb::GetDossierRequest { name: name.clone(), view: 0 }).await.expect("read").into_inner();
    assert_eq!(dossier.status(), DossierStatus::Processing);
    assert!(dossier.result.is_none(), "nothing recorded without a signature");

    let status = intake
        .approve_result(pb::ApproveResultRequest { request_id: request_id(), name, actor, reason: String::new() })
        .await
        .expect_err("nothing to approve");
    assert_eq!(status.code(), Code::FailedPrecondition, "approval before the officer's signature");
    server.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_sees_every_dossier_of_concurrent_writers_once_in_order_and_resumes_mid_feed() {
    on_every_database(|database| async move {
        const WRITERS: usize = 8;
        const PER_WRITER: usize = 25;
        const TOTAL: usize = WRITERS * PER_WRITER;
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let components = required_components(&mut intake, PROCEDURE).await;
        // The follower starts before the writers, so it replays nothing and follows everything live.
        let mut feed =
            intake.watch_events(pb::WatchEventsRequest { after_sequence: 0 }).await.expect("feed").into_inner();
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let mut intake = intake.clone();
            let components = components.clone();
            writers.push(tokio::spawn(async move {
                let mut names = Vec::new();
                for index in 0..PER_WRITER {
                    let request = pb::CreateDossierRequest {
                        request_id: format!("feed-{writer}-{index}"),
                        branch_code: "CN13".to_owned(),
                        procedure_code: PROCEDURE.to_owned(),
                        channel: Channel::InPerson as i32,
                        applicant: Some(citizen("001099012345")),
                        receiving_officer: Some(officer("CB011")),
                        components: components.clone(),
                    };
                    names.push(file_retrying(&mut intake, &request).await.dossier.expect("dossier").name);
                }
                names
            }));
        }
        let mut filed = HashSet::new();
        for writer in writers {
            filed.extend(writer.await.expect("writer finished"));
        }
        let mut seen = Vec::new();
        while seen.len() < TOTAL {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
                .await
                .expect("an event in time")
                .expect("stream open")
                .expect("no error");
            if let Some(envelope) = event.envelope {
                assert!(matches!(event.payload, Some(Payload::DossierCreated(_))));
                seen.push((envelope.sequence, envelope.subject));
            }
        }
        let sequences: Vec<i64> = seen.iter().map(|(sequence, _)| *sequence).collect();
        assert_eq!(sequences, (1..=TOTAL as i64).collect::<Vec<_>>(), "{}: dense and in order", database.backend);
        let subjects: HashSet<String> = seen.iter().map(|(_, subject)| subject.clone()).collect();
        assert_eq!(subjects, filed, "{}: every dossier exactly once", database.backend);

        // A follower that stopped half-way resumes after its last sequence and misses nothing.
        let half = TOTAL as i64 / 2;
        let mut resumed =
            intake.watch_events(pb::WatchEventsRequest { after_sequence: half }).await.expect("feed").into_inner();
        let mut rest = Vec::new();
        while rest.len() < TOTAL - half as usize {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), resumed.next())
                .await
                .expect("an event in time")
                .expect("stream open")
                .expect("no error");
            if let Some(envelope) = event.envelope {
                rest.push((envelope.sequence, envelope.subject));
            }
        }
        assert_eq!(rest, seen[half as usize..].to_vec(), "{}", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn dossier_codes_follow_the_configured_form_and_are_found_by_it() {
    on_every_database(|database| async move {
        let mut config =
            motcua_chassis::ServiceConfig::for_local(motcua_chassis::ServiceKind::Intake, database.url.clone());
        config.service_variables.insert(
            motcua_intake::settings::ENV_INTAKE_DOSSIER_CODE_FORMAT,
            "HS-{agency}/{date:%Y%m%d}/{number:6}".to_owned(),
        );
        let server = motcua_chassis::testing::start_service_with::<Intake>(config).await;
        let mut intake = clients::intake(server.local_addr).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let dossier = create(&mut intake, request).await;
        let (prefix, number) = dossier.dossier_code.rsplit_once('/').expect("the configured separators");
        assert!(prefix.starts_with(&format!("HS-{}/20", dossier.agency_code)), "{}", dossier.dossier_code);
        assert_eq!(number, "000001", "{}", database.backend);
        assert_eq!(dossier.name, format!("dossiers/{}", dossier.dossier_code));
        let read = intake.get_dossier(pb::GetDossierRequest { name: dossier.name.clone(), view: 0 }).await;
        assert_eq!(read.expect("found by its code").into_inner().dossier_code, dossier.dossier_code);
        let default_form = format!("dossiers/{}-{}-0001", dossier.agency_code, &prefix[prefix.len() - 6..]);
        let status =
            intake.get_dossier(pb::GetDossierRequest { name: default_form, view: 0 }).await.expect_err("another form");
        assert_eq!(status.code(), Code::InvalidArgument);
        server.stop().await.expect("clean stop");
    })
    .await;
}
