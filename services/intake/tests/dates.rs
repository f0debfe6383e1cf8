//! Dossiers on a manual clock, over real gRPC, on SQLite and PostgreSQL: what only the passing of time
//! shows — overdue listings, the clock stopped while the applicant supplements, late hand-overs,
//! apologies with a new appointment (form 04), refusal at intake, and ratings only after the return.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    clock::Clock,
    server::RunningServer,
    testing::{TestDatabase, on_every_database, start_service_with},
    timestamps,
};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::{Channel, DossierStatus},
    intake::v1 as pb,
};
use motcua_testkit::{
    clients,
    dossiers::{create, filing},
    people::officer,
    request_id,
};
use tonic::Code;
use tonic_types::StatusExt;

/// Monday 2 March 2026, 09:00 in Hanoi: no holiday for weeks around it.
fn monday_morning() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|day| day.and_hms_opt(2, 0, 0)).expect("a valid time").and_utc()
}

async fn start(database: &TestDatabase, clock: &Clock) -> (RunningServer, clients::Intake) {
    let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
    config.clock = clock.clone();
    let server = start_service_with::<Intake>(config).await;
    let intake = clients::intake(server.local_addr).await;
    (server, intake)
}

fn time(timestamp: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    timestamp.and_then(timestamps::from_proto).expect("a time")
}

async fn start_processing(intake: &mut clients::Intake, name: &str, to_due_time: Option<DateTime<Utc>>) -> pb::Dossier {
    intake
        .start_processing(pb::StartProcessingRequest {
            request_id: request_id(),
            name: name.to_owned(),
            actor: Some(officer("CB001")),
            processing_unit: Some(pb::HandOverParty {
                unit_code: "PTP".to_owned(),
                unit_name: "Phòng Tư pháp".to_owned(),
                officer: Some(officer("CV002")),
            }),
            to_due_time: to_due_time.map(timestamps::to_proto),
            reason: String::new(),
        })
        .await
        .expect("processing")
        .into_inner()
        .dossier
        .expect("dossier")
}

#[tokio::test]
async fn a_dossier_past_its_appointment_is_listed_as_overdue_and_one_within_it_is_not() {
    on_every_database(|database| async move {
        let clock = Clock::manual(monday_morning());
        let (server, mut intake) = start(&database, &clock).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let early = create(&mut intake, request).await;
        let appointment = time(early.appointment_time.as_ref());
        // Ten working days: two weeks later.
        assert_eq!(
            appointment.date_naive(),
            NaiveDate::from_ymd_opt(2026, 3, 16).expect("a date"),
            "{}",
            database.backend
        );
        clock.set(appointment - Duration::days(1));
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012346").await;
        let late_filed = create(&mut intake, request).await;

        clock.set(appointment + Duration::hours(1));
        let overdue = intake
            .list_dossiers(pb::ListDossiersRequest { overdue_only: true, ..Default::default() })
            .await
            .expect("listed")
            .into_inner()
            .dossiers;
        let codes: Vec<_> = overdue.iter().map(|dossier| dossier.dossier_code.clone()).collect();
        assert_eq!(codes, vec![early.dossier_code.clone()], "{}", database.backend);
        assert!(overdue[0].overdue);
        let fresh = intake
            .get_dossier(pb::GetDossierRequest { name: late_filed.name, view: 0 })
            .await
            .expect("read")
            .into_inner();
        assert!(!fresh.overdue);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn the_clock_stops_while_the_applicant_supplements_and_the_appointment_moves_by_the_wait() {
    on_every_database(|database| async move {
        let clock = Clock::manual(monday_morning());
        let (server, mut intake) = start(&database, &clock).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let components = request.components.clone();
        let dossier = create(&mut intake, request).await;
        start_processing(&mut intake, &dossier.name, None).await;
        let before = time(dossier.appointment_time.as_ref());
        clock.advance(Duration::hours(2));
        intake
            .request_supplement(pb::RequestSupplementRequest {
                request_id: request_id(),
                name: dossier.name.clone(),
                actor: Some(officer("CB001")),
                reason: "Thiếu tờ khai".to_owned(),
                requested_components: vec![pb::RequestedComponent {
                    component_code: components[0].component_code.clone(),
                    note: "Tờ khai có chữ ký".to_owned(),
                }],
            })
            .await
            .expect("supplement requested");
        // The applicant comes back three days later.
        clock.advance(Duration::days(3));
        let supplemented = intake
            .supplement_dossier(pb::SupplementDossierRequest {
                request_id: request_id(),
                name: dossier.name.clone(),
                actor: Some(officer("CB001")),
                components,
                reason: String::new(),
            })
            .await
            .expect("supplemented")
            .into_inner()
            .dossier
            .expect("dossier");
        let after = time(supplemented.appointment_time.as_ref());
        let waited = supplemented.supplement_wait.expect("the wait");
        assert_eq!(waited.seconds, 3 * 86_400, "{}", database.backend);
        assert!(after > before, "{}: the appointment moves later: {before} -> {after}", database.backend);
        assert_eq!(supplemented.status(), DossierStatus::Processing);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_hand_over_after_the_step_was_due_is_recorded_late() {
    on_every_database(|database| async move {
        let clock = Clock::manual(monday_morning());
        let (server, mut intake) = start(&database, &clock).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let dossier = create(&mut intake, request).await;
        start_processing(&mut intake, &dossier.name, Some(monday_morning() + Duration::hours(4))).await;
        clock.advance(Duration::hours(6));
        let transferred = intake
            .transfer_dossier(pb::TransferDossierRequest {
                request_id: request_id(),
                name: dossier.name.clone(),
                actor: Some(officer("CV002")),
                to: Some(pb::HandOverParty {
                    unit_code: "UBND".to_owned(),
                    unit_name: "UBND phường".to_owned(),
                    officer: None,
                }),
                to_due_time: None,
                reason: String::new(),
            })
            .await
            .expect("transferred")
            .into_inner();
        let hand_over = transferred.hand_over.expect("the hand-over");
        assert_eq!(hand_over.timeliness(), pb::Timeliness::Late, "{}", database.backend);
        assert_eq!(time(hand_over.hand_over_time.as_ref()), monday_morning() + Duration::hours(6));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn an_apology_moves_the_appointment_later_and_an_earlier_one_is_refused() {
    on_every_database(|database| async move {
        let clock = Clock::manual(monday_morning());
        let (server, mut intake) = start(&database, &clock).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let dossier = create(&mut intake, request).await;
        start_processing(&mut intake, &dossier.name, None).await;
        let appointment = time(dossier.appointment_time.as_ref());
        let apologize = |new_appointment: DateTime<Utc>| pb::ApologizeDossierRequest {
            request_id: request_id(),
            name: dossier.name.clone(),
            actor: Some(officer("CB001")),
            reason: "Cần xác minh thêm".to_owned(),
            new_appointment_time: Some(timestamps::to_proto(new_appointment)),
        };
        let status = intake.apologize_dossier(apologize(appointment - Duration::days(1))).await.expect_err("earlier");
        assert_eq!(status.code(), Code::InvalidArgument, "{}", database.backend);
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        assert_eq!(violations[0].field, "new_appointment_time");

        let later = appointment + Duration::days(5);
        let answer = intake.apologize_dossier(apologize(later)).await.expect("apologized").into_inner();
        let apology = answer.apology.expect("the apology");
        assert_eq!(time(apology.previous_appointment_time.as_ref()), appointment);
        assert_eq!(time(apology.new_appointment_time.as_ref()), later);
        let apologized = answer.dossier.expect("dossier");
        assert_eq!(time(apologized.appointment_time.as_ref()), later, "{}", database.backend);
        assert_eq!(apologized.apologies.len(), 1);
        assert_eq!(time(apologized.initial_appointment_time.as_ref()), appointment, "the first appointment is kept");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_refused_dossier_ends_at_intake_and_a_dossier_is_rated_only_once_returned() {
    on_every_database(|database| async move {
        let clock = Clock::manual(monday_morning());
        let (server, mut intake) = start(&database, &clock).await;
        let request = filing(&mut intake, "CN01", Channel::Online, "001099012345").await;
        let online = create(&mut intake, request).await;
        assert_eq!(online.status(), DossierStatus::Registered);
        let refused = intake
            .refuse_dossier(pb::RefuseDossierRequest {
                request_id: request_id(),
                name: online.name.clone(),
                actor: Some(officer("CB001")),
                reason: "Không thuộc thẩm quyền".to_owned(),
            })
            .await
            .expect("refused")
            .into_inner()
            .dossier
            .expect("dossier");
        assert_eq!(refused.status(), DossierStatus::Refused, "{}", database.backend);
        assert!(refused.end_time.is_some());
        let status = intake
            .start_processing(pb::StartProcessingRequest {
                request_id: request_id(),
                name: online.name.clone(),
                actor: Some(officer("CB001")),
                ..Default::default()
            })
            .await
            .expect_err("a refused dossier is ended");
        assert_eq!(status.code(), Code::FailedPrecondition);

        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012346").await;
        let received = create(&mut intake, request).await;
        let status = intake
            .rate_dossier(pb::RateDossierRequest {
                request_id: request_id(),
                name: received.name,
                rating: pb::Rating::Satisfied as i32,
                comment: String::new(),
            })
            .await
            .expect_err("not returned yet");
        assert_eq!(status.code(), Code::FailedPrecondition, "{}", database.backend);
        assert_eq!(status.get_error_details().error_info().expect("ErrorInfo").reason, "NOT_RETURNED");
        server.stop().await.expect("clean stop");
    })
    .await;
}
