//! One trace across services: intake's ResolveDossier calls signing's Sign, and the collector receives
//! intake's server span, intake's client span beneath it, and signing's server span beneath that, all
//! in one trace. One test in this file: telemetry is global to the process.

use std::time::Duration;

use motcua_chassis::{
    config::LogFormat,
    telemetry::{self, TelemetrySettings},
};
use motcua_proto::motcua::{common::v1::Channel, intake::v1 as pb};
use motcua_testkit::{
    ExportedSpan, OtlpReceiver, TestDatabase, clients,
    dossiers::{create, filing},
    people::{CITIZEN_NAME, actor},
    services::{start_intake, url_of},
    start_service,
};

const SERVER: i32 = 2;
const CLIENT: i32 = 3;

#[tokio::test]
async fn a_call_from_intake_to_signing_is_one_trace_with_parent_child_edges() {
    let receiver = OtlpReceiver::start().await;
    let guard = telemetry::init(&TelemetrySettings {
        service_name: "motcua-e2e".to_owned(),
        otlp_endpoint: Some(receiver.endpoint()),
        log_format: LogFormat::Json,
        log_filter: "warn".to_owned(),
        ..TelemetrySettings::new("motcua-e2e")
    })
    .expect("telemetry installs");

    let signing_database = TestDatabase::sqlite();
    let signing = start_service::<motcua_signing::Signing>(&signing_database).await;
    let intake_database = TestDatabase::sqlite();
    let intake_server = start_intake(&intake_database, &url_of(&signing)).await;
    let mut intake = clients::intake(intake_server.local_addr).await;

    let mut filing = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
    filing.receiving_officer = actor("CB100");
    let dossier = create(&mut intake, filing).await;
    intake
        .start_processing(pb::StartProcessingRequest {
            request_id: "trace-start".to_owned(),
            name: dossier.name.clone(),
            actor: actor("CB100"),
            ..Default::default()
        })
        .await
        .expect("processing");
    // Whatever signing answers (this officer has no certificate), the call crosses the services.
    let _ = intake
        .resolve_dossier(pb::ResolveDossierRequest {
            request_id: "trace-resolve".to_owned(),
            name: dossier.name.clone(),
            actor: actor("CB100"),
            result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
                media_type: "application/pdf".to_owned(),
                content: b"%PDF-1.7 result".to_vec(),
                ..Default::default()
            })),
            electronic: true,
            reason: String::new(),
        })
        .await;

    intake_server.stop().await.expect("intake stops");
    signing.stop().await.expect("signing stops");
    guard.shutdown().await;

    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| {
            named(spans, "motcua.signing.v1.SigningService/Sign", SERVER).is_some()
        })
        .await;
    let intake_span =
        named(&spans, "motcua.intake.v1.IntakeService/ResolveDossier", SERVER).expect("intake's server span");
    let client_span =
        named(&spans, "motcua.signing.v1.SigningService/Sign", CLIENT).expect("intake's client span to signing");
    let signing_span = named(&spans, "motcua.signing.v1.SigningService/Sign", SERVER).expect("signing's server span");

    assert_eq!(client_span.span.trace_id, intake_span.span.trace_id);
    assert_eq!(signing_span.span.trace_id, intake_span.span.trace_id, "one trace across the services");
    assert_eq!(client_span.span.parent_span_id, intake_span.span.span_id, "intake's call is a child of its handler");
    assert_eq!(signing_span.span.parent_span_id, client_span.span.span_id, "signing's handler is a child of the call");

    for span in &spans {
        for text in span.all_text() {
            for personal in ["001099012345", CITIZEN_NAME] {
                assert!(!text.contains(personal), "span {:?} carries personal data", span.span.name);
            }
        }
    }
}

fn named<'a>(spans: &'a [ExportedSpan], name: &str, kind: i32) -> Option<&'a ExportedSpan> {
    spans.iter().find(|span| span.span.name == name && span.span.kind == kind)
}
