//! Logs and traces: a `tracing` subscriber writing JSON or pretty lines, and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, an OpenTelemetry layer exporting spans over OTLP/gRPC with the
//! W3C trace-context propagator registered.

use opentelemetry::{KeyValue, global, trace::TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{self, LogFormat};

/// The instrumentation scope of every motcua span.
const TRACER_NAME: &str = "motcua";

/// Keeps the trace exporter alive; [`TelemetryGuard::shutdown`] flushes what is still buffered.
#[must_use = "dropping the guard without shutdown may lose the last spans"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops the exporter. Called last on shutdown, after the server has drained. The
    /// flush blocks, so it runs on the blocking pool: the runtime's workers stay free to drive the
    /// exporter's network I/O even when there is only one of them.
    pub async fn shutdown(mut self) {
        let provider = self.provider.take();
        let flushed = tokio::task::spawn_blocking(move || flush_and_stop(provider)).await;
        if let Err(error) = flushed {
            eprintln!("motcua: flushing traces panicked: {error}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        flush_and_stop(self.provider.take());
    }
}

fn flush_and_stop(provider: Option<SdkTracerProvider>) {
    if let Some(provider) = provider {
        if let Err(error) = provider.force_flush() {
            eprintln!("motcua: flushing traces failed: {error}");
        }
        if let Err(error) = provider.shutdown() {
            eprintln!("motcua: stopping the trace exporter failed: {error}");
        }
    }
}

/// Where telemetry goes, read from the environment by [`TelemetrySettings::from_env`].
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// `service.name` of the resource.
    pub service_name: String,
    /// The OTLP/gRPC endpoint; `None` exports nothing.
    pub otlp_endpoint: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
}

impl TelemetrySettings {
    /// Reads the standard `OTEL_*` variables and motcua's log settings.
    pub fn from_env(default_service_name: &str) -> Result<Self, config::ConfigError> {
        let (log_format, log_filter) = config::log_settings()?;
        let non_empty = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        Ok(Self {
            service_name: non_empty(config::ENV_OTEL_SERVICE_NAME).unwrap_or_else(|| default_service_name.to_owned()),
            otlp_endpoint: non_empty(config::ENV_OTEL_EXPORTER_OTLP_ENDPOINT),
            log_format,
            log_filter,
        })
    }
}

/// Installs the global subscriber and, when an endpoint is set, the OTLP exporter. Must be called
/// inside a Tokio runtime (the gRPC exporter runs on it), once per process.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(&settings.log_filter)?;

    let provider = match &settings.otlp_endpoint {
        Some(endpoint) => Some(otlp_provider(&settings.service_name, endpoint)?),
        None => None,
    };
    let otel_layer =
        provider.as_ref().map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(TRACER_NAME)));

    let fmt_layer = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            // The server span of every request carries `trace_id`, so each line inside it can be joined
            // to its trace.
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr).boxed(),
    };

    tracing_subscriber::registry().with(otel_layer).with(fmt_layer.with_filter(filter)).try_init()?;

    if let Some(provider) = &provider {
        global::set_tracer_provider(provider.clone());
    }
    Ok(TelemetryGuard { provider })
}

fn otlp_provider(service_name: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(std::time::Duration::from_secs(5))
        .build()?;
    let resource = Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new("service.namespace", "motcua"))
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}
