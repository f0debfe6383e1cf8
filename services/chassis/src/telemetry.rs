//! Logs, traces and metrics: a `tracing` subscriber writing JSON or pretty lines, and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, motcua's own spans (filtered by `MOTCUA_TRACE_FILTER`, sampled
//! by `OTEL_TRACES_SAMPLER`) and its RPC metrics exported over OTLP/gRPC, with the W3C trace-context
//! propagator registered.

use std::time::Duration;

use opentelemetry::{
    Context, KeyValue, global,
    metrics::MeterProvider as _,
    trace::{Link, SpanKind, TraceContextExt, TraceId, TracerProvider as _},
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    Resource,
    metrics::SdkMeterProvider,
    propagation::TraceContextPropagator,
    trace::{Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample},
};
use tracing::Level;
use tracing_subscriber::{EnvFilter, Layer, filter::filter_fn, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{self, ConfigError, LogFormat};

/// The instrumentation scope of every motcua span and instrument.
const SCOPE_NAME: &str = "motcua";
/// The name prefix of sea-orm's statement spans (`sea_orm.query_one`, `sea_orm.execute` ...).
const STATEMENT_SPAN_PREFIX: &str = "sea_orm.";

/// Keeps the exporters alive; [`TelemetryGuard::shutdown`] flushes what is still buffered.
#[must_use = "dropping the guard without shutdown may lose the last spans"]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops the exporters. Called last on shutdown, after the server has drained. The
    /// flush blocks, so it runs on the blocking pool: the runtime's workers stay free to drive the
    /// exporters' network I/O even when there is only one of them.
    pub async fn shutdown(mut self) {
        let (tracer, meter) = (self.tracer.take(), self.meter.take());
        let flushed = tokio::task::spawn_blocking(move || flush_and_stop(tracer, meter)).await;
        if let Err(error) = flushed {
            eprintln!("motcua: flushing telemetry panicked: {error}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        flush_and_stop(self.tracer.take(), self.meter.take());
    }
}

fn flush_and_stop(tracer: Option<SdkTracerProvider>, meter: Option<SdkMeterProvider>) {
    if let Some(tracer) = tracer {
        if let Err(error) = tracer.force_flush() {
            eprintln!("motcua: flushing traces failed: {error}");
        }
        if let Err(error) = tracer.shutdown() {
            eprintln!("motcua: stopping the trace exporter failed: {error}");
        }
    }
    if let Some(meter) = meter {
        // Shutting down exports the last measurements.
        if let Err(error) = meter.shutdown() {
            eprintln!("motcua: stopping the metric exporter failed: {error}");
        }
    }
}

/// Where telemetry goes, read from the environment by [`TelemetrySettings::from_env`].
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// `service.name` of the resource.
    pub service_name: String,
    /// The OTLP/gRPC endpoint of spans and metrics; `None` exports nothing.
    pub otlp_endpoint: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
    /// Which spans, and events inside them, are exported (`tracing` EnvFilter syntax).
    pub trace_filter: String,
    /// Which traces are kept: the decision for a root span, followed by its children.
    pub sampler: Sampler,
    /// The longest one export may take.
    pub export_timeout: Duration,
}

impl TelemetrySettings {
    /// Logs at `info` as JSON, nothing exported, and the documented defaults for the rest: the base a
    /// test or a tool starts from.
    pub fn new(service_name: &str) -> Self {
        let default = |variable| config::default_of(config::VARIABLES, variable);
        Self {
            service_name: service_name.to_owned(),
            otlp_endpoint: None,
            log_format: LogFormat::Json,
            log_filter: default(config::ENV_LOG).to_owned(),
            trace_filter: default(config::ENV_TRACE_FILTER).to_owned(),
            sampler: Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            export_timeout: Duration::from_millis(10_000),
        }
    }

    /// Reads the standard `OTEL_*` variables and motcua's log and trace filters.
    pub fn from_env(default_service_name: &str) -> Result<Self, ConfigError> {
        let (log_format, log_filter) = config::log_settings()?;
        let set = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let value =
            |name: &'static str| set(name).unwrap_or_else(|| config::default_of(config::VARIABLES, name).to_owned());
        let disabled = match value(config::ENV_OTEL_SDK_DISABLED).trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            other => return Err(invalid(config::ENV_OTEL_SDK_DISABLED, other, "true or false")),
        };
        let timeout = value(config::ENV_OTEL_EXPORTER_OTLP_TIMEOUT);
        let export_timeout = timeout
            .trim()
            .parse()
            .map(Duration::from_millis)
            .map_err(|_| invalid(config::ENV_OTEL_EXPORTER_OTLP_TIMEOUT, &timeout, "milliseconds"))?;
        Ok(Self {
            service_name: set(config::ENV_OTEL_SERVICE_NAME).unwrap_or_else(|| default_service_name.to_owned()),
            otlp_endpoint: set(config::ENV_OTEL_EXPORTER_OTLP_ENDPOINT).filter(|_| !disabled),
            log_format,
            log_filter,
            trace_filter: value(config::ENV_TRACE_FILTER),
            sampler: sampler(&value(config::ENV_OTEL_TRACES_SAMPLER), &value(config::ENV_OTEL_TRACES_SAMPLER_ARG))?,
            export_timeout,
        })
    }
}

fn invalid(variable: &'static str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError { variable, value: value.to_owned(), reason }
}

/// The sampler `OTEL_TRACES_SAMPLER` names, as the OpenTelemetry specification defines them.
fn sampler(name: &str, argument: &str) -> Result<Sampler, ConfigError> {
    let ratio = || {
        argument
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|ratio| (0.0..=1.0).contains(ratio))
            .ok_or_else(|| invalid(config::ENV_OTEL_TRACES_SAMPLER_ARG, argument, "a ratio from 0.0 to 1.0"))
    };
    Ok(match name.trim() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?))),
        other => {
            return Err(invalid(
                config::ENV_OTEL_TRACES_SAMPLER,
                other,
                "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
            ));
        }
    })
}

/// Installs the global subscriber and, when an endpoint is set, the OTLP exporters of spans and
/// metrics. Must be called inside a Tokio runtime (the gRPC exporters run on it), once per process.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let log_filter = EnvFilter::try_new(&settings.log_filter)?;
    let trace_filter = EnvFilter::try_new(&settings.trace_filter)?;

    let (tracer, meter) = match &settings.otlp_endpoint {
        Some(endpoint) => {
            let resource = resource(&settings.service_name);
            (
                Some(tracer_provider(settings, endpoint, resource.clone())?),
                Some(meter_provider(settings, endpoint, resource)?),
            )
        }
        None => (None, None),
    };
    let otel_layer = tracer.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(SCOPE_NAME))
            // The build machine's source paths, thread names and busy/idle times tell an SRE nothing
            // and cost bytes on every span.
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(trace_filter)
    });
    if let Some(meter) = &meter {
        crate::metrics::install(&meter.meter(SCOPE_NAME));
    }

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

    // sea-orm wraps its functions in TRACE-level spans whose fields are their arguments: those of
    // `connect` hold the connection options, the database password among them. Its INFO-level
    // statement spans say all the others would, so these exist for no layer, logs included.
    let no_sea_orm_function_spans = filter_fn(|metadata| {
        !(metadata.is_span() && *metadata.level() == Level::TRACE && metadata.target().starts_with("sea_orm"))
    });
    tracing_subscriber::registry()
        .with(no_sea_orm_function_spans)
        .with(otel_layer)
        .with(fmt_layer.with_filter(log_filter))
        .try_init()?;

    if let Some(provider) = &tracer {
        global::set_tracer_provider(provider.clone());
    }
    Ok(TelemetryGuard { tracer, meter })
}

fn resource(service_name: &str) -> Resource {
    Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new("service.namespace", "motcua"))
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `OTEL_EXPORTER_OTLP_HEADERS` is read by the exporter itself, which sends them as gRPC metadata.
fn tracer_provider(
    settings: &TelemetrySettings,
    endpoint: &str,
    resource: Resource,
) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(settings.export_timeout)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(StatementsInsideSpans(settings.sampler.clone()))
        .with_resource(resource)
        .build())
}

/// Exported every `OTEL_METRIC_EXPORT_INTERVAL` milliseconds, which the periodic reader reads itself.
fn meter_provider(
    settings: &TelemetrySettings,
    endpoint: &str,
    resource: Resource,
) -> anyhow::Result<SdkMeterProvider> {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(settings.export_timeout)
        .build()?;
    Ok(SdkMeterProvider::builder().with_periodic_exporter(exporter).with_resource(resource).build())
}

/// The configured sampler, except that a database statement outside any span is dropped: those are
/// a background loop's polls (a checkpointer, a feed follower, a job runner looking for work) or
/// start-up's migrations, and would export a root span per query while the service is idle. A loop
/// that finds work opens a span of its own, and its statements are kept beneath it.
#[derive(Debug, Clone)]
struct StatementsInsideSpans(Sampler);

impl ShouldSample for StatementsInsideSpans {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let has_parent = parent_context.is_some_and(|context| context.span().span_context().is_valid());
        if !has_parent && name.starts_with(STATEMENT_SPAN_PREFIX) {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: Default::default(),
            };
        }
        self.0.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};

    use super::*;

    fn decide(sampler: &StatementsInsideSpans, parent: Option<&Context>, name: &str) -> SamplingDecision {
        sampler.should_sample(parent, TraceId::from(7), name, &SpanKind::Client, &[], &[]).decision
    }

    #[test]
    fn a_statement_outside_any_span_is_dropped_and_one_inside_a_sampled_span_is_kept() {
        let sampler = StatementsInsideSpans(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7),
            opentelemetry::trace::SpanId::from(9),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        assert_eq!(decide(&sampler, None, "sea_orm.query_one"), SamplingDecision::Drop);
        assert_eq!(decide(&sampler, Some(&Context::new()), "sea_orm.execute"), SamplingDecision::Drop);
        assert_eq!(decide(&sampler, Some(&parent), "sea_orm.query_one"), SamplingDecision::RecordAndSample);
        assert_eq!(
            decide(&sampler, None, "motcua.intake.v1.IntakeService/GetDossier"),
            SamplingDecision::RecordAndSample
        );
    }

    #[test]
    fn the_standard_sampler_names_are_understood_and_a_bad_ratio_is_refused() {
        assert!(matches!(sampler("parentbased_traceidratio", "0.25"), Ok(Sampler::ParentBased(_))));
        assert!(matches!(sampler("traceidratio", "1"), Ok(Sampler::TraceIdRatioBased(ratio)) if ratio == 1.0));
        assert!(matches!(sampler("always_off", ""), Ok(Sampler::AlwaysOff)));
        assert!(sampler("parentbased_traceidratio", "1.5").is_err());
        assert!(sampler("traceidratio", "half").is_err());
        assert!(sampler("jaeger_remote", "").is_err());
    }
}
