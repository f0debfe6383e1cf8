//! A real OTLP/gRPC trace receiver for tests, built from opentelemetry-proto's generated server: it
//! keeps every exported span with its resource, so a test can assert what a collector would see.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{AnyValue, KeyValue, any_value::Value},
    trace::v1::Span,
};
use tokio::sync::{Mutex, oneshot};
use tokio_stream::wrappers::TcpListenerStream;

/// One span as the receiver got it, with the `service.name` of its resource.
#[derive(Debug, Clone)]
pub struct ExportedSpan {
    /// The resource's `service.name`.
    pub service_name: String,
    /// Every resource attribute, as `key=value` text.
    pub resource_attributes: Vec<(String, String)>,
    /// The span itself.
    pub span: Span,
}

impl ExportedSpan {
    /// The span's attribute `key` as text, if present.
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.span.attributes.iter().find(|attribute| attribute.key == key).map(|attribute| value_text(&attribute.value))
    }

    /// Every attribute of the span, its events and its resource, as `key=value` text: what a grep for
    /// personal data must search.
    pub fn all_text(&self) -> Vec<String> {
        let mut text: Vec<String> = self.span.attributes.iter().map(key_value_text).collect();
        for event in &self.span.events {
            text.push(event.name.clone());
            text.extend(event.attributes.iter().map(key_value_text));
        }
        text.push(self.span.name.clone());
        if let Some(status) = &self.span.status {
            text.push(status.message.clone());
        }
        text.extend(self.resource_attributes.iter().map(|(key, value)| format!("{key}={value}")));
        text
    }
}

/// The receiver, listening on an ephemeral loopback port until dropped.
pub struct OtlpReceiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
    _stop: oneshot::Sender<()>,
}

impl OtlpReceiver {
    /// Starts listening on `127.0.0.1:0`.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let spans = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel::<()>();
        let service = TraceServiceServer::new(Collector { spans: spans.clone() });
        tokio::spawn(tonic::transport::Server::builder().add_service(service).serve_with_incoming_shutdown(
            TcpListenerStream::new(listener),
            async {
                let _ = stopped.await;
            },
        ));
        Self { addr, spans, _stop: stop }
    }

    /// The endpoint to set as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub async fn spans(&self) -> Vec<ExportedSpan> {
        self.spans.lock().await.clone()
    }

    /// Waits up to `timeout` until `done` holds for the spans received, and returns them.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&[ExportedSpan]) -> bool) -> Vec<ExportedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans().await;
            if done(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

struct Collector {
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource_attributes: Vec<(String, String)> = resource_spans
                .resource
                .map(|resource| {
                    resource
                        .attributes
                        .iter()
                        .map(|attribute| (attribute.key.clone(), value_text(&attribute.value)))
                        .collect()
                })
                .unwrap_or_default();
            let service_name = resource_attributes
                .iter()
                .find(|(key, _)| key == "service.name")
                .map(|(_, value)| value.clone())
                .unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    received.push(ExportedSpan {
                        service_name: service_name.clone(),
                        resource_attributes: resource_attributes.clone(),
                        span,
                    });
                }
            }
        }
        self.spans.lock().await.extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

fn key_value_text(attribute: &KeyValue) -> String {
    format!("{}={}", attribute.key, value_text(&attribute.value))
}

fn value_text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|value| value.value.as_ref()) {
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => number.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
