//! The deadline of every call: the caller's `grpc-timeout` when it is shorter, the service's own
//! limit (`MOTCUA_REQUEST_TIMEOUT_MS`) otherwise. An expired call fails with tonic's `TimeoutExpired`,
//! which the refusal layer answers as tonic does (CANCELLED, "Timeout expired").

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http::{HeaderMap, Request};
use tokio::time::Sleep;
use tower::{BoxError, Layer, Service};

/// The header in which a gRPC caller sends its deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Calls end at the earlier of the caller's deadline and `limit`.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    /// No call runs longer than `limit`.
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner, limit: self.limit }
    }
}

/// The service made by [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Expiring<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // A deadline that does not parse is ignored, as tonic ignores it: the service's limit holds.
        let allowed = callers_timeout(request.headers()).map_or(self.limit, |caller| caller.min(self.limit));
        Expiring { inner: self.inner.call(request), expiry: tokio::time::sleep(allowed) }
    }
}

pin_project_lite::pin_project! {
    /// A call's answer, or `TimeoutExpired` once its deadline passes.
    pub struct Expiring<F> {
        #[pin]
        inner: F,
        #[pin]
        expiry: Sleep,
    }
}

impl<F, T, E> Future for Expiring<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(answer) = this.inner.poll(cx) {
            return Poll::Ready(answer.map_err(Into::into));
        }
        this.expiry.poll(cx).map(|()| Err(tonic::TimeoutExpired(()).into()))
    }
}

/// The caller's `grpc-timeout`: at most eight digits and a unit (H, M, S, m, u, n), per the gRPC over
/// HTTP/2 protocol; `None` when absent or malformed.
fn callers_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(GRPC_TIMEOUT)?.to_str().ok()?;
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    match &value[digits.len()..] {
        "H" => Some(Duration::from_secs(amount * 3600)),
        "M" => Some(Duration::from_secs(amount * 60)),
        "S" => Some(Duration::from_secs(amount)),
        "m" => Some(Duration::from_millis(amount)),
        "u" => Some(Duration::from_micros(amount)),
        "n" => Some(Duration::from_nanos(amount)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn timeout(value: &'static str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_static(value));
        callers_timeout(&headers)
    }

    #[test]
    fn grpc_timeout_reads_every_unit_and_refuses_what_the_protocol_does_not_allow() {
        assert_eq!(timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(timeout("200m"), Some(Duration::from_millis(200)));
        assert_eq!(timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for malformed in ["", "m", "5", "5s", "-5m", "+5m", "123456789m", "1.5S"] {
            assert_eq!(timeout(malformed), None, "{malformed:?}");
        }
        assert_eq!(callers_timeout(&HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn a_call_ends_at_the_shorter_of_the_callers_deadline_and_the_service_limit() {
        const LIMIT: Duration = Duration::from_millis(500);
        let slow = tower::service_fn(|_: Request<()>| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, BoxError>(())
        });
        let mut service = DeadlineLayer::new(LIMIT).layer(slow);
        let request = |timeout: Option<&'static str>| {
            let mut request = Request::new(());
            if let Some(timeout) = timeout {
                request.headers_mut().insert(GRPC_TIMEOUT, HeaderValue::from_static(timeout));
            }
            request
        };
        // (the caller's grpc-timeout, not before, before)
        for (header, earliest, latest) in [
            (Some("100m"), Duration::from_millis(100), LIMIT),
            (None, LIMIT, Duration::from_secs(60)),
            (Some("1M"), LIMIT, Duration::from_secs(60)),
        ] {
            let started = std::time::Instant::now();
            let error = service.call(request(header)).await.expect_err("the call outlives its deadline");
            let elapsed = started.elapsed();
            assert!(error.is::<tonic::TimeoutExpired>(), "{error}");
            assert!(elapsed >= earliest && elapsed < latest, "with grpc-timeout {header:?}: {elapsed:?}");
        }
    }
}
