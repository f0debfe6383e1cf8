//! A traced RPC reaches a real OTLP receiver: the server span of `ListProcedures` arrives with the
//! service's name as resource, the RPC semantic conventions and no request data in its attributes, as
//! the child of the caller's client span in one trace. One test in this file: telemetry is global to
//! the process.

use std::time::Duration;

use motcua_chassis::{
    config::LogFormat,
    peer,
    telemetry::{self, TelemetrySettings},
    testing::{ExportedSpan, OtlpReceiver, TestDatabase, start_service},
};
use motcua_intake::Intake;
use motcua_proto::motcua::intake::v1::{ListProceduresRequest, intake_service_client::IntakeServiceClient};
use tracing::Instrument;

/// Looks like a citizen's name and identity number: it must never reach a span.
const PERSONAL_LOOKING_QUERY: &str = "Nguyễn Thị Hoa 001199012345";

#[tokio::test]
async fn list_procedures_server_span_reaches_the_collector_as_child_of_the_caller() {
    let receiver = OtlpReceiver::start().await;
    let guard = telemetry::init(&TelemetrySettings {
        service_name: "motcua-intake".to_owned(),
        otlp_endpoint: Some(receiver.endpoint()),
        log_format: LogFormat::Json,
        log_filter: "info".to_owned(),
        ..TelemetrySettings::new("motcua-intake")
    })
    .expect("telemetry installs");

    let database = TestDatabase::sqlite();
    let server = start_service::<Intake>(&database).await;
    let mut intake =
        IntakeServiceClient::new(peer::connect_lazy(&format!("http://{}", server.local_addr)).expect("url"));

    // The caller's work is one span; the traced channel adds the client span beneath it.
    let caller = tracing::info_span!("caller.work", otel.kind = "internal");
    async {
        intake
            .list_procedures(ListProceduresRequest { query: PERSONAL_LOOKING_QUERY.to_owned(), ..Default::default() })
            .await
            .expect("search answers");
    }
    .instrument(caller)
    .await;
    server.stop().await.expect("clean stop");
    guard.shutdown().await;

    let spans = receiver
        .wait_for(Duration::from_secs(10), |spans| {
            spans
                .iter()
                .any(|span| span.span.name == "motcua.intake.v1.IntakeService/ListProcedures" && span.span.kind == 2)
        })
        .await;
    let server_span = find(&spans, 2).expect("the server span of ListProcedures was exported");
    let client_span = find(&spans, 3).expect("the client span of ListProcedures was exported");

    assert_eq!(server_span.service_name, "motcua-intake");
    assert_eq!(server_span.attribute("rpc.system").as_deref(), Some("grpc"));
    assert_eq!(server_span.attribute("rpc.service").as_deref(), Some("motcua.intake.v1.IntakeService"));
    assert_eq!(server_span.attribute("rpc.method").as_deref(), Some("ListProcedures"));
    assert_eq!(server_span.attribute("rpc.grpc.status_code").as_deref(), Some("0"));

    // One trace, and the server span is the client span's child.
    assert_eq!(server_span.span.trace_id, client_span.span.trace_id);
    assert_eq!(server_span.span.parent_span_id, client_span.span.span_id);

    // Database spans of the request join the same trace.
    assert!(
        spans
            .iter()
            .any(|span| span.span.trace_id == server_span.span.trace_id && span.attribute("db.system").is_some()),
        "a database span in the request's trace"
    );

    for span in &spans {
        for text in span.all_text() {
            for fragment in ["001199012345", "Nguyễn", "Hoa"] {
                assert!(!text.contains(fragment), "span {:?} carries request data: {text}", span.span.name);
            }
        }
    }
}

fn find(spans: &[ExportedSpan], kind: i32) -> Option<&ExportedSpan> {
    spans
        .iter()
        .find(|span| span.span.name == "motcua.intake.v1.IntakeService/ListProcedures" && span.span.kind == kind)
}
