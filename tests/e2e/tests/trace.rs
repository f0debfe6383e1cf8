//! One trace across services: intake's ResolveDossier calls signing's Sign, and the collector receives
//! intake's server span, intake's client span beneath it, and signing's server span beneath that, all
//! in one trace. One test in this file: telemetry is global to the process.

use std::time::Duration;

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    config::LogFormat,
    telemetry::{self, TelemetrySettings},
    testing::{ExportedSpan, OtlpReceiver, TestDatabase, start_service, start_service_with},
};
use motcua_intake::settings::ENV_INTAKE_SIGNING_URL;
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, Citizen, CopyKind, applicant::Kind},
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
};

const SERVER: i32 = 2;
const CLIENT: i32 = 3;

fn officer() -> Option<pb::Officer> {
    Some(pb::Officer { officer_id: "CB100".to_owned(), ..Default::default() })
}

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
    let mut config = ServiceConfig::for_local(ServiceKind::Intake, intake_database.url.clone());
    config.service_variables.insert(ENV_INTAKE_SIGNING_URL, format!("http://{}", signing.local_addr));
    let intake_server = start_service_with::<motcua_intake::Intake>(config).await;
    let mut intake =
        IntakeServiceClient::connect(format!("http://{}", intake_server.local_addr)).await.expect("intake answers");

    let procedure = intake
        .get_procedure(pb::GetProcedureRequest { name: "procedures/1.012822".to_owned(), version: 0 })
        .await
        .expect("procedure")
        .into_inner();
    let components = procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| pb::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            ..Default::default()
        })
        .collect();
    let dossier = intake
        .create_dossier(pb::CreateDossierRequest {
            request_id: "trace-create".to_owned(),
            branch_code: "CN01".to_owned(),
            procedure_code: "1.012822".to_owned(),
            channel: Channel::InPerson as i32,
            applicant: Some(Applicant {
                kind: Some(Kind::Citizen(Citizen {
                    identity_number: "001099012345".to_owned(),
                    full_name: "Lê Thị Hoa".to_owned(),
                    ..Default::default()
                })),
            }),
            receiving_officer: officer(),
            components,
        })
        .await
        .expect("filed")
        .into_inner()
        .dossier
        .expect("dossier");
    intake
        .start_processing(pb::StartProcessingRequest {
            request_id: "trace-start".to_owned(),
            name: dossier.name.clone(),
            actor: officer(),
            ..Default::default()
        })
        .await
        .expect("processing");
    // Whatever signing answers (this officer has no certificate), the call crosses the services.
    let _ = intake
        .resolve_dossier(pb::ResolveDossierRequest {
            request_id: "trace-resolve".to_owned(),
            name: dossier.name.clone(),
            actor: officer(),
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
            for personal in ["001099012345", "Lê Thị Hoa"] {
                assert!(!text.contains(personal), "span {:?} carries personal data", span.span.name);
            }
        }
    }
}

fn named<'a>(spans: &'a [ExportedSpan], name: &str, kind: i32) -> Option<&'a ExportedSpan> {
    spans.iter().find(|span| span.span.name == name && span.span.kind == kind)
}
