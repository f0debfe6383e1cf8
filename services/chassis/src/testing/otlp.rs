//! A real OTLP/gRPC receiver of traces and metrics for tests, built from opentelemetry-proto's
//! generated servers: it keeps every exported span with its resource, and every histogram's points,
//! so a test can assert what a collector would see.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{AnyValue, KeyValue, any_value::Value},
    metrics::v1::metric::Data,
    trace::v1::Span,
};
use tokio::sync::{Mutex, oneshot};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;

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

/// One point of an exported histogram: its attributes as `key=value` text and how many measurements
/// it counts (OpenTelemetry exports the running total of a cumulative histogram each time).
#[derive(Debug, Clone)]
pub struct HistogramPoint {
    /// The resource's `service.name`.
    pub service_name: String,
    /// The metric's name.
    pub metric: String,
    /// The point's attributes.
    pub attributes: Vec<(String, String)>,
    /// The measurements counted.
    pub count: u64,
}

impl HistogramPoint {
    /// The point's attribute `key` as text, if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }
}

/// The receiver, listening on an ephemeral loopback port until dropped.
pub struct OtlpReceiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
    histograms: Arc<Mutex<Vec<HistogramPoint>>>,
    _stop: oneshot::Sender<()>,
}

impl OtlpReceiver {
    /// Starts listening on `127.0.0.1:0`.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let spans = Arc::new(Mutex::new(Vec::new()));
        let histograms = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel::<()>();
        let collector = Collector { spans: spans.clone(), histograms: histograms.clone() };
        tokio::spawn(
            tonic::transport::Server::builder()
                // Collectors forwarding to it (rotel) compress with gzip whatever they are told.
                .add_service(TraceServiceServer::new(collector.clone()).accept_compressed(CompressionEncoding::Gzip))
                .add_service(MetricsServiceServer::new(collector).accept_compressed(CompressionEncoding::Gzip))
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = stopped.await;
                }),
        );
        Self { addr, spans, histograms, _stop: stop }
    }

    /// The endpoint to set as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub async fn spans(&self) -> Vec<ExportedSpan> {
        self.spans.lock().await.clone()
    }

    /// Every histogram point received so far, in the order received.
    pub async fn histograms(&self) -> Vec<HistogramPoint> {
        self.histograms.lock().await.clone()
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

#[derive(Clone)]
struct Collector {
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
    histograms: Arc<Mutex<Vec<HistogramPoint>>>,
}

fn service_name_of(attributes: &[KeyValue]) -> String {
    attributes
        .iter()
        .find(|attribute| attribute.key == "service.name")
        .map(|attribute| value_text(&attribute.value))
        .unwrap_or_default()
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_metrics in request.into_inner().resource_metrics {
            let service_name =
                resource_metrics.resource.map(|resource| service_name_of(&resource.attributes)).unwrap_or_default();
            for metric in resource_metrics.scope_metrics.into_iter().flat_map(|scope| scope.metrics) {
                let Some(Data::Histogram(histogram)) = metric.data else { continue };
                for point in histogram.data_points {
                    received.push(HistogramPoint {
                        service_name: service_name.clone(),
                        metric: metric.name.clone(),
                        attributes: point
                            .attributes
                            .iter()
                            .map(|attribute| (attribute.key.clone(), value_text(&attribute.value)))
                            .collect(),
                        count: point.count,
                    });
                }
            }
        }
        self.histograms.lock().await.extend(received);
        Ok(tonic::Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
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
