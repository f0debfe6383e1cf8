//! Spans and duration metrics for gRPC calls in both directions, with the OpenTelemetry RPC semantic
//! conventions, and the W3C trace context carried in the `traceparent` header: extracted on every
//! incoming call, injected on every outgoing one.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use opentelemetry::{global, propagation::Extractor, propagation::Injector, trace::TraceContextExt};
use tower::{Layer, Service};
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::{self, Side};

/// Paths that get no span and no measurement: probes and tooling would drown the traces that matter.
const UNTRACED_SERVICES: [&str; 3] =
    ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

/// gRPC's UNKNOWN, for a server call that failed without a status; UNAVAILABLE, for a client call
/// whose transport failed (tonic reports those as UNAVAILABLE too).
const UNKNOWN: i32 = 2;
const UNAVAILABLE: i32 = 14;

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// Opens a server span around every incoming RPC, as a child of the caller's trace when the request
/// carries one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerTraceLayer;

impl<S> Layer<S> for ServerTraceLayer {
    type Service = ServerTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTrace { inner }
    }
}

/// The service made by [`ServerTraceLayer`].
#[derive(Debug, Clone)]
pub struct ServerTrace<S> {
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for ServerTrace<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (service, method) = split_path(request.uri().path());
        if UNTRACED_SERVICES.contains(&service) {
            return Box::pin(self.inner.call(request));
        }
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = format!("{service}/{method}"),
            otel.kind = "server",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            trace_id = Empty,
        );
        let parent =
            global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(request.headers())));
        let remote_trace_id = parent.span().span_context().trace_id();
        // Fails only when no OpenTelemetry layer is installed; the span then simply has no parent.
        let _ = span.set_parent(parent);
        let trace_id = span.context().span().span_context().trace_id();
        let trace_id = if trace_id == opentelemetry::trace::TraceId::INVALID { remote_trace_id } else { trace_id };
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(trace_id));
        }

        let (service, method) = (service.to_owned(), method.to_owned());
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(
            async move {
                let result = future.await;
                let code = result.as_ref().map_or(UNKNOWN, |response| status_code(response.headers()));
                record_status(&Span::current(), code, true);
                metrics::record_call(Side::Server, &service, &method, code, started.elapsed());
                result
            }
            .instrument(span),
        )
    }
}

/// Opens a client span around every outgoing RPC and injects its context into the request, so the
/// server's span becomes its child.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientTraceLayer;

impl<S> Layer<S> for ClientTraceLayer {
    type Service = ClientTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientTrace { inner }
    }
}

/// The service made by [`ClientTraceLayer`]; wrap a `tonic::transport::Channel` in it and hand it to a
/// generated client.
#[derive(Debug, Clone)]
pub struct ClientTrace<S> {
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for ClientTrace<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let (service, method) = split_path(request.uri().path());
        let span = tracing::info_span!(
            "grpc.client",
            otel.name = format!("{service}/{method}"),
            otel.kind = "client",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            server.address = request.uri().host().unwrap_or_default(),
            server.port = request.uri().port_u16().unwrap_or_default(),
        );
        let (service, method) = (service.to_owned(), method.to_owned());
        let context = span.context();
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut HeaderInjector(request.headers_mut()));
        });
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(
            async move {
                let result = future.await;
                let code = result.as_ref().map_or(UNAVAILABLE, |response| status_code(response.headers()));
                record_status(&Span::current(), code, false);
                metrics::record_call(Side::Client, &service, &method, code, started.elapsed());
                result
            }
            .instrument(span),
        )
    }
}

/// The gRPC status found in the response headers. tonic sends an error as a trailers-only response,
/// so a status in the headers is the call's status; a success carries it in the trailers, which
/// arrive after the span ends, so a missing header means OK.
fn status_code(headers: &HeaderMap) -> i32 {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .unwrap_or(0)
}

/// Records the call's gRPC status `code` on its span.
fn record_status(span: &Span, code: i32, server_side: bool) {
    span.record("rpc.grpc.status_code", code);
    // Semantic conventions: a server span is an error only for codes that mean the server failed;
    // a client span is an error for any code but OK.
    let is_error = if server_side { matches!(code, 2 | 4 | 12 | 13 | 14 | 15) } else { code != 0 };
    if is_error {
        span.record("otel.status_code", "ERROR");
    }
}

/// The W3C `traceparent` of the current span, or empty when nothing is traced. Stored with events and
/// jobs so that work done later joins the trace of the request that caused it.
pub fn current_traceparent() -> String {
    let context = Span::current().context();
    let mut headers = HeaderMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(&mut headers))
    });
    headers.get("traceparent").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
}

/// The span context a stored W3C `traceparent` names, when it names a valid one: what work done later
/// (a job, a feed's follower) is parented or linked to.
pub fn span_context_of(traceparent: &str) -> Option<opentelemetry::trace::SpanContext> {
    use opentelemetry::{propagation::TextMapPropagator, trace::TraceContextExt};
    if traceparent.is_empty() {
        return None;
    }
    let carrier = std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    // The W3C format itself rather than the global propagator, which is a no-op until telemetry starts.
    let context = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then_some(span_context)
}

fn split_path(path: &str) -> (&str, &str) {
    let path = path.trim_start_matches('/');
    path.split_once('/').unwrap_or((path, ""))
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(key.as_bytes()), HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn grpc_paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/motcua.intake.v1.IntakeService/ListProcedures"),
            ("motcua.intake.v1.IntakeService", "ListProcedures")
        );
        assert_eq!(split_path("/odd"), ("odd", ""));
    }
}
