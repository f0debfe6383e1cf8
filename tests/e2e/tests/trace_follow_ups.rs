//! One dossier's creation is one trace: intake's CreateDossier, the slip job it records, receipt's
//! IssueReceipt that job calls, receipt's signing job and signing's Sign are all in the trace of the
//! counter's call, each job a child of the request that caused it and linked to it. No span carries
//! the citizen's data. One test in this file: telemetry is global to the process.

use std::time::Duration;

use motcua_chassis::{
    config::LogFormat,
    telemetry::{self, TelemetrySettings},
};
use motcua_intake::settings::ENV_INTAKE_RECEIPT_URL;
use motcua_proto::motcua::{common::v1::Channel, intake::v1 as pb};
use motcua_testkit::{
    ExportedSpan, OtlpReceiver, TestDatabase,
    authorities::BranchDeployment,
    clients,
    dossiers::{create, filing},
    people::CITIZEN_NAME,
    series::open_series,
    services::{intake_config, start_receipt, start_signing, url_of},
    start_service_with,
};

const SERVER: i32 = 2;
const CONSUMER: i32 = 5;
const IDENTITY_NUMBER: &str = "001099012345";

#[tokio::test]
async fn a_dossiers_creation_its_slip_job_receipt_and_signature_are_one_trace() {
    let receiver = OtlpReceiver::start().await;
    let guard = telemetry::init(&TelemetrySettings {
        otlp_endpoint: Some(receiver.endpoint()),
        log_format: LogFormat::Json,
        log_filter: "warn".to_owned(),
        ..TelemetrySettings::new("motcua-e2e")
    })
    .expect("telemetry installs");

    let signing_database = TestDatabase::sqlite();
    let signing = start_signing(&signing_database).await;
    BranchDeployment::of("CN01").officer("CB001").deploy(&mut clients::signing(signing.local_addr).await).await;
    let receipt_database = TestDatabase::sqlite();
    let receipt = start_receipt(&receipt_database, &url_of(&signing)).await;
    open_series(receipt.local_addr, "CN01").await;
    let intake_database = TestDatabase::sqlite();
    let mut config = intake_config(&intake_database, &url_of(&signing));
    config.service_variables.insert(ENV_INTAKE_RECEIPT_URL, url_of(&receipt));
    let intake_server = start_service_with::<motcua_intake::Intake>(config).await;

    let mut intake = clients::intake(intake_server.local_addr).await;
    let filed = filing(&mut intake, "CN01", Channel::InPerson, IDENTITY_NUMBER).await;
    let dossier = create(&mut intake, filed).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let request = pb::GetDossierRequest { name: dossier.name.clone(), view: pb::DossierView::Full as i32 };
        let shown = intake.get_dossier(request).await.expect("the dossier").into_inner();
        let slip = shown.follow_ups.iter().find(|job| job.kind() == pb::FollowUpKind::AcknowledgementSlip);
        if slip.is_some_and(|slip| slip.signature_log_index.is_some()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the slip is not signed within 20 s: {slip:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    intake_server.stop().await.expect("intake stops");
    receipt.stop().await.expect("receipt stops");
    signing.stop().await.expect("signing stops");
    guard.shutdown().await;

    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| {
            named(spans, "motcua.signing.v1.SigningService/Sign", SERVER).is_some()
        })
        .await;
    let created =
        named(&spans, "motcua.intake.v1.IntakeService/CreateDossier", SERVER).expect("intake's CreateDossier span");
    let trace = &created.span.trace_id;
    let slip_job = named(&spans, "job intake.slip", CONSUMER).expect("the slip job's span");
    assert_eq!(&slip_job.span.trace_id, trace, "the slip job is in the trace of the dossier's creation");
    assert_eq!(slip_job.span.parent_span_id, created.span.span_id, "the slip job is a child of CreateDossier");
    assert!(
        slip_job.span.links.iter().any(|link| link.span_id == created.span.span_id),
        "the slip job links to the request that caused it"
    );
    let issued = spans
        .iter()
        .find(|span| {
            span.span.name == "motcua.receipt.v1.ReceiptService/IssueReceipt"
                && span.span.kind == SERVER
                && &span.span.trace_id == trace
        })
        .expect("receipt's IssueReceipt in the same trace");
    let signing_job = spans
        .iter()
        .find(|span| {
            span.span.kind == CONSUMER && span.span.name.starts_with("job receipt.") && &span.span.trace_id == trace
        })
        .expect("receipt's signing job in the same trace");
    assert_eq!(
        signing_job.span.parent_span_id, issued.span.span_id,
        "receipt's signing job is a child of IssueReceipt"
    );
    assert!(
        spans.iter().any(|span| span.span.name == "motcua.signing.v1.SigningService/Sign"
            && span.span.kind == SERVER
            && &span.span.trace_id == trace),
        "signing's Sign of the slip in the same trace"
    );

    for span in &spans {
        for text in span.all_text() {
            for personal in [IDENTITY_NUMBER, CITIZEN_NAME] {
                assert!(!text.contains(personal), "span {:?} carries personal data", span.span.name);
            }
        }
    }
}

fn named<'a>(spans: &'a [ExportedSpan], name: &str, kind: i32) -> Option<&'a ExportedSpan> {
    spans.iter().find(|span| span.span.name == name && span.span.kind == kind)
}
