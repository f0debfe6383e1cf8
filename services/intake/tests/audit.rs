//! Intake's audit trail over real gRPC, on SQLite and PostgreSQL: filings and moves are recorded as
//! mutations, dossier and document reads as personal-data reads with the dossiers they returned,
//! failures with their code and reason, refusals by the policy as denials; the trail filters, pages,
//! only grows, and never holds the applicant's data.

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{TrailReader, on_every_database, start_service, start_service_with},
};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    audit::v1::{ListAuditRecordsRequest, audit_record::Action},
    common::v1::Channel,
    intake::v1::{self as pb},
};
use sea_orm::ConnectionTrait;
use tonic::{Code, Request};
use tonic_types::StatusExt;

mod common;

use common::{client, create, filing, officer, request_id};

const CREATE: &str = "/motcua.intake.v1.IntakeService/CreateDossier";
const GET: &str = "/motcua.intake.v1.IntakeService/GetDossier";
const LIST: &str = "/motcua.intake.v1.IntakeService/ListDossiers";
const ACCEPT: &str = "/motcua.intake.v1.IntakeService/AcceptDossier";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// An auditor who reads the trail, an agency that may only read the catalogue, and the tests' own
/// anonymous reads of it.
const POLICY: &str = r#"
identities:
  agency/auditor:
    rpcs: ["motcua.audit.v1.AuditService/ListAuditRecords"]
  agency/so-tu-phap:
    rpcs: ["motcua.intake.v1.IntakeService/ListProcedures", "motcua.intake.v1.IntakeService/GetProcedure"]
  dev/anonymous:
    rpcs: ["motcua.intake.v1.IntakeService/GetProcedure"]
"#;

/// `message` as sent by `identity` in the development mode, in the trace `TRACE_ID`.
fn from<T>(identity: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-motcua-identity", identity.parse().expect("an identity is ASCII"));
    request.metadata_mut().insert("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01").parse().expect("ASCII"));
    request
}

#[tokio::test]
async fn a_filing_is_recorded_as_a_mutation_with_identity_officer_subject_request_and_trace() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        let filed = intake.create_dossier(from("staff/cn01", request.clone())).await.expect("filed").into_inner();
        let dossier = filed.dossier.expect("a dossier");

        let records = trail.of_request(&request.request_id).await;
        assert_eq!(records.len(), 1, "{}: one record per call", database.backend);
        let record = &records[0];
        assert_eq!(record.action(), Action::Mutation);
        assert_eq!(record.identity, "spiffe://motcua/staff/cn01");
        assert_eq!(record.actor_id, "CB001", "the receiving officer");
        assert_eq!(record.rpc, CREATE);
        assert_eq!(record.subjects, vec![dossier.name.clone()]);
        assert_eq!(record.request_id, request.request_id);
        assert_eq!(record.trace_id, TRACE_ID);
        assert!(record.trace_id.len() == 32 && record.trace_id.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!((record.status_code, record.error_reason.as_str()), (0, ""));
        assert!(record.sequence >= 1 && record.name == format!("auditRecords/{}", record.sequence));
        assert!(record.time.is_some());

        // The applicant's name, identity number, phone and address stay out of the trail.
        let text = format!("{records:?}");
        for personal in ["Trần", "Bình", "001099012345", "0912345678", "Tràng Tiền"] {
            assert!(!text.contains(personal), "{}: {personal} in the trail", database.backend);
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn reading_dossiers_is_recorded_with_every_dossier_returned_and_catalogue_reads_are_not() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let mut names = Vec::new();
        for identity_number in ["001099012345", "001099054321"] {
            let request = filing(&mut intake, "CN02", Channel::InPerson, identity_number).await;
            names.push(create(&mut intake, request).await.name);
        }
        intake
            .get_dossier(from("agency/so-tu-phap", pb::GetDossierRequest { name: names[0].clone(), view: 0 }))
            .await
            .expect("read");
        let listed = intake
            .list_dossiers(from(
                "staff/cn02",
                pb::ListDossiersRequest { branch_code: "CN02".to_owned(), ..Default::default() },
            ))
            .await
            .expect("listed")
            .into_inner();
        assert_eq!(listed.dossiers.len(), 2);

        let reads = trail
            .records(ListAuditRecordsRequest { action: Action::PersonalDataRead as i32, ..Default::default() })
            .await;
        assert_eq!(reads.len(), 2, "{}", database.backend);
        assert_eq!((reads[0].rpc.as_str(), reads[0].identity.as_str()), (GET, "spiffe://motcua/agency/so-tu-phap"));
        assert_eq!(reads[0].subjects, vec![names[0].clone()]);
        assert_eq!((reads[1].rpc.as_str(), reads[1].identity.as_str()), (LIST, "spiffe://motcua/staff/cn02"));
        let mut listed_subjects = reads[1].subjects.clone();
        listed_subjects.sort();
        let mut expected = names.clone();
        expected.sort();
        assert_eq!(listed_subjects, expected, "a listing names every dossier it returned");

        // The procedures are public: reading them is not recorded.
        let before = trail.all().await.len();
        intake.list_procedures(pb::ListProceduresRequest::default()).await.expect("catalogue");
        assert_eq!(trail.all().await.len(), before);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_refused_move_is_recorded_with_its_status_code_and_reason() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let request = filing(&mut intake, "CN03", Channel::InPerson, "001099012345").await;
        let dossier = create(&mut intake, request).await;

        // An in-person filing is received already: accepting it again is refused.
        let accept = pb::AcceptDossierRequest {
            request_id: request_id(),
            name: dossier.name.clone(),
            actor: Some(officer("CB007")),
            reason: String::new(),
        };
        let refusal = intake.accept_dossier(from("staff/cn03", accept.clone())).await.expect_err("refused");
        let reason = refusal.get_error_details().error_info().map(|info| info.reason.clone()).expect("an ErrorInfo");

        let records = trail.of_request(&accept.request_id).await;
        assert_eq!(records.len(), 1, "{}", database.backend);
        let record = &records[0];
        assert_eq!((record.rpc.as_str(), record.action()), (ACCEPT, Action::Mutation));
        assert_eq!(record.status_code, refusal.code() as i32);
        assert_ne!(record.status_code, 0);
        assert_eq!(record.error_reason, reason);
        assert_eq!(record.subjects, vec![dossier.name.clone()], "the dossier it tried to move");
        assert_eq!(record.actor_id, "CB007");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn the_trail_filters_by_every_field_and_pages_oldest_first() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let mut names = Vec::new();
        for identity in ["staff/cn01", "staff/cn01", "staff/cn02", "agency/so-y-te", "staff/cn01"] {
            let request = filing(&mut intake, "CN04", Channel::InPerson, "001099012345").await;
            let filed = intake.create_dossier(from(identity, request)).await.expect("filed").into_inner();
            names.push(filed.dossier.expect("a dossier").name);
        }
        intake
            .get_dossier(from("staff/cn02", pb::GetDossierRequest { name: names[2].clone(), view: 0 }))
            .await
            .expect("read");

        let everything = trail.all().await;
        assert_eq!(everything.len(), 6, "{}", database.backend);
        let paged = trail.records(ListAuditRecordsRequest { page_size: 2, ..Default::default() }).await;
        assert_eq!(paged, everything, "pages of two give the same trail");

        let identity = |identity: &str| ListAuditRecordsRequest { identity: identity.to_owned(), ..Default::default() };
        assert_eq!(trail.records(identity("spiffe://motcua/staff/cn01")).await.len(), 3);
        assert_eq!(trail.records(identity("staff/cn01")).await.len(), 3, "the short form too");
        let subject = trail.records(ListAuditRecordsRequest { subject: names[2].clone(), ..Default::default() }).await;
        assert_eq!(subject.iter().map(|record| record.rpc.as_str()).collect::<Vec<_>>(), vec![CREATE, GET]);
        let rpc = trail.records(ListAuditRecordsRequest { rpc: GET.to_owned(), ..Default::default() }).await;
        assert_eq!(rpc.len(), 1);
        let mutations =
            trail.records(ListAuditRecordsRequest { action: Action::Mutation as i32, ..Default::default() }).await;
        assert_eq!(mutations.len(), 5);
        let trace =
            trail.records(ListAuditRecordsRequest { trace_id: TRACE_ID.to_owned(), ..Default::default() }).await;
        assert_eq!(trace.len(), 6);
        let other_trace =
            ListAuditRecordsRequest { trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(), ..Default::default() };
        assert!(trail.records(other_trace).await.is_empty());

        // A window of one microsecond (PostgreSQL keeps no finer time) from the third record holds it,
        // and only what was answered in that microsecond.
        let third = everything[2].time.expect("a time");
        let after_third = prost_types::Timestamp {
            seconds: third.seconds + i64::from(third.nanos >= 999_999_000),
            nanos: (third.nanos + 1_000) % 1_000_000_000,
        };
        let window =
            ListAuditRecordsRequest { start_time: Some(third), end_time: Some(after_third), ..Default::default() };
        let in_window = trail.records(window).await;
        assert!(in_window.iter().any(|record| record.sequence == everything[2].sequence));
        let key = |time: &prost_types::Timestamp| (time.seconds, time.nanos);
        assert!(in_window.iter().all(|record| {
            let time = key(record.time.as_ref().expect("a time"));
            key(&third) <= time && time < key(&after_third)
        }));

        // Tokens belong to their filters; sizes must not be negative.
        let first = trail.page(ListAuditRecordsRequest { page_size: 1, ..Default::default() }).await.expect("page");
        let mismatched =
            ListAuditRecordsRequest { page_token: first.next_page_token, rpc: GET.to_owned(), ..Default::default() };
        let refused = trail.page(mismatched).await.expect_err("other filters");
        assert_eq!(refused.code(), Code::InvalidArgument);
        let refused =
            trail.page(ListAuditRecordsRequest { page_size: -1, ..Default::default() }).await.expect_err("negative");
        assert_eq!(refused.code(), Code::InvalidArgument);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn the_trail_only_grows_with_strictly_increasing_sequences_and_the_database_refuses_changes() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let mut seen = Vec::new();
        for round in 0..3 {
            let request = filing(&mut intake, "CN05", Channel::InPerson, "001099012345").await;
            let dossier = create(&mut intake, request).await;
            intake.get_dossier(pb::GetDossierRequest { name: dossier.name, view: 0 }).await.expect("read");
            let now = trail.all().await;
            assert_eq!(now.len(), 2 * (round + 1), "{}", database.backend);
            assert_eq!(&now[..seen.len()], &seen[..], "earlier records are unchanged");
            seen = now;
        }
        let sequences: Vec<i64> = seen.iter().map(|record| record.sequence).collect();
        assert_eq!(sequences[0], 1);
        assert!(sequences.windows(2).all(|pair| pair[0] < pair[1]), "{sequences:?}");

        let db = sea_orm::Database::connect(database.url.as_str()).await.expect("the database");
        for statement in [
            "UPDATE audit_records SET identity = 'spiffe://motcua/staff/nobody'",
            "DELETE FROM audit_records",
            "DELETE FROM audit_record_subjects",
        ] {
            assert!(db.execute_unprepared(statement).await.is_err(), "{}: {statement} was allowed", database.backend);
        }
        assert_eq!(trail.all().await, seen);
        db.close().await.expect("closed");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_call_the_policy_does_not_grant_is_recorded_as_denied() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-audit-policy-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a folder");
        let policy = folder.join("policy.yaml");
        std::fs::write(&policy, POLICY).expect("the policy is written");
        let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
        config.policy_file = Some(policy);
        let server = start_service_with::<Intake>(config).await;
        let mut intake = client(server.local_addr).await;

        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        request.request_id = request_id();
        let refused = intake.create_dossier(from("agency/so-tu-phap", request)).await.expect_err("not granted");
        assert_eq!(refused.code(), Code::PermissionDenied);
        // The trail is for auditors: the agency may not read it either.
        let mut agency = TrailReader::connect(server.local_addr).await.as_identity("agency/so-tu-phap");
        let refused = agency.page(ListAuditRecordsRequest::default()).await.expect_err("not an auditor");
        assert_eq!(refused.code(), Code::PermissionDenied);

        let records = TrailReader::connect(server.local_addr).await.as_identity("agency/auditor").all().await;
        let denied: Vec<_> = records.iter().filter(|record| record.action() == Action::Denied).collect();
        assert_eq!(denied.len(), 2, "{}: {records:?}", database.backend);
        assert_eq!(denied[0].rpc, CREATE);
        assert_eq!(denied[0].identity, "spiffe://motcua/agency/so-tu-phap");
        assert_eq!(
            (denied[0].status_code, denied[0].error_reason.as_str()),
            (Code::PermissionDenied as i32, "RPC_NOT_ALLOWED")
        );
        assert_eq!(denied[0].trace_id, TRACE_ID);
        assert!(denied[0].subjects.is_empty(), "a refused call reached no handler to name anything");
        assert_eq!(denied[1].rpc, "/motcua.audit.v1.AuditService/ListAuditRecords");
        server.stop().await.expect("clean stop");
        let _ = std::fs::remove_dir_all(folder);
    })
    .await;
}

#[tokio::test]
async fn an_oversized_request_id_is_refused_by_its_handler_and_still_recorded() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let mut request = filing(&mut intake, "CN06", Channel::InPerson, "001099012345").await;
        request.request_id = "x".repeat(300);
        let refused = intake.create_dossier(from("staff/cn06", request)).await.expect_err("not a request id");
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{}: the handler's answer, not the trail's",
            database.backend
        );

        let records = trail.records(ListAuditRecordsRequest { rpc: CREATE.to_owned(), ..Default::default() }).await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status_code, Code::InvalidArgument as i32);
        assert_eq!(records[0].request_id, "x".repeat(100), "cut to its column");
        server.stop().await.expect("clean stop");
    })
    .await;
}

/// Makes every `event` (INSERT, UPDATE) on `table` fail, as a crash at that point of a transaction
/// would: what the transaction wrote before it is rolled back.
async fn inject_fault(db: &sea_orm::DatabaseConnection, backend: &str, table: &str, event: &str) {
    let statements = if backend == "postgres" {
        vec![
            "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER injected_fault BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER injected_fault BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )]
    };
    for statement in statements {
        db.execute_unprepared(&statement).await.expect("the fault is injected");
    }
}

async fn clear_fault(db: &sea_orm::DatabaseConnection, backend: &str, table: &str) {
    let statement = if backend == "postgres" {
        format!("DROP TRIGGER injected_fault ON {table}")
    } else {
        "DROP TRIGGER injected_fault".to_owned()
    };
    db.execute_unprepared(&statement).await.expect("the fault is cleared");
}

async fn dossier_count(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM dossiers"))
        .await
        .expect("counted")
        .expect("a row");
    row.try_get("", "n").expect("a count")
}

#[tokio::test]
async fn a_filing_and_its_audit_record_commit_together_or_not_at_all() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = client(server.local_addr).await;
        let mut trail = TrailReader::connect(server.local_addr).await;
        let db = sea_orm::Database::connect(database.url.as_str()).await.expect("the database");
        let before = dossier_count(&db).await;
        let request = filing(&mut intake, "CN07", Channel::InPerson, "001099012345").await;

        // A fault after the dossier and its record are written, before the commit (the response is
        // stored last): neither stays. The failed call is recorded afterwards, as failed.
        inject_fault(&db, database.backend, "request_log", "UPDATE").await;
        intake.create_dossier(from("staff/cn07", request.clone())).await.expect_err("the fault fails the call");
        assert_eq!(dossier_count(&db).await, before, "{}: no dossier", database.backend);
        let records = trail.of_request(&request.request_id).await;
        assert_eq!(records.len(), 1, "{}: only the failed call's record: {records:?}", database.backend);
        assert_ne!(records[0].status_code, 0);
        assert!(records[0].subjects.is_empty(), "the record names no dossier that was rolled back");
        clear_fault(&db, database.backend, "request_log").await;

        // A fault in the audit write itself: the dossier does not stay without its record.
        inject_fault(&db, database.backend, "audit_records", "INSERT").await;
        intake.create_dossier(from("staff/cn07", request.clone())).await.expect_err("the fault fails the call");
        assert_eq!(dossier_count(&db).await, before, "{}: no dossier without its record", database.backend);
        clear_fault(&db, database.backend, "audit_records").await;

        // Without a fault, the retry commits both.
        let filed = intake.create_dossier(from("staff/cn07", request.clone())).await.expect("filed").into_inner();
        assert_eq!(dossier_count(&db).await, before + 1);
        let committed: Vec<_> =
            trail.of_request(&request.request_id).await.into_iter().filter(|record| record.status_code == 0).collect();
        assert_eq!(committed.len(), 1, "{}", database.backend);
        assert_eq!(committed[0].subjects, vec![filed.dossier.expect("a dossier").name]);
        db.close().await.expect("closed");
        server.stop().await.expect("clean stop");
    })
    .await;
}
