//! Refusals: the typed error a layer raises when it turns a call away before its handler (the guard,
//! the per-identity limit), and the one layer that answers every refusal, the load shedder's
//! `Overloaded` and an expired deadline with a gRPC status in the service's error domain.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use http::Response;
use tower::{BoxError, Layer, Service, load_shed::error::Overloaded};

use crate::error::ApiError;

/// How long a shed caller is told to wait before retrying.
const SHED_RETRY_AFTER: Duration = Duration::from_millis(100);

/// A call turned away before its handler ran, and what its caller is told.
#[derive(Debug, thiserror::Error)]
#[error("call refused: {0}")]
pub struct Refusal(pub ApiError);

/// Answers the errors of the layers below with the status they stand for: a [`Refusal`] with its
/// error, tower's `Overloaded` with RESOURCE_EXHAUSTED (`OVERLOADED`) and RetryInfo, and an expired
/// deadline as tonic answers one. Every other error passes on.
#[derive(Debug, Clone, Copy)]
pub struct RefusalResponseLayer {
    domain: &'static str,
}

impl RefusalResponseLayer {
    /// Statuses with `domain` (the service's, e.g. `intake.motcua`) in their ErrorInfo.
    pub fn new(domain: &'static str) -> Self {
        Self { domain }
    }
}

impl<S> Layer<S> for RefusalResponseLayer {
    type Service = RefusalResponse<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RefusalResponse { inner, domain: self.domain }
    }
}

/// The service made by [`RefusalResponseLayer`].
#[derive(Debug, Clone)]
pub struct RefusalResponse<S> {
    inner: S,
    domain: &'static str,
}

impl<S, R, ResBody> Service<R> for RefusalResponse<S>
where
    S: Service<R, Response = Response<ResBody>, Error = BoxError>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = Answered<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        Answered { inner: self.inner.call(request), domain: self.domain }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a call, its refusal turned into a status.
    pub struct Answered<F> {
        #[pin]
        inner: F,
        domain: &'static str,
    }
}

impl<F, ResBody> Future for Answered<F>
where
    F: Future<Output = Result<Response<ResBody>, BoxError>>,
    ResBody: Default,
{
    type Output = Result<Response<ResBody>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = ready!(this.inner.poll(cx));
        let domain = *this.domain;
        Poll::Ready(answer.or_else(|error| status_of(error, domain).map(tonic::Status::into_http)))
    }
}

/// The status a refusal stands for, or the error itself when it is none.
fn status_of(error: BoxError, domain: &'static str) -> Result<tonic::Status, BoxError> {
    let error = match error.downcast::<Refusal>() {
        Ok(refusal) => return Ok(refusal.0.into_status(domain)),
        Err(error) => error,
    };
    if error.is::<Overloaded>() {
        return Ok(ApiError::ResourceExhausted {
            reason: "OVERLOADED",
            description: "the service is at its concurrency limit; retry shortly".to_owned(),
            retry_after: SHED_RETRY_AFTER,
        }
        .into_status(domain));
    }
    // tonic's own answer to an expired deadline (CANCELLED, "Timeout expired"), the same whichever of
    // our deadline and tonic's (it always reads grpc-timeout itself, outside this stack) ends first.
    if error.is::<tonic::TimeoutExpired>() {
        return Ok(tonic::Status::from_error(error));
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Status, body::Body};
    use tonic_types::StatusExt;
    use tower::{ServiceExt, service_fn};

    use super::*;

    /// What the refusal layer answers when the service below fails with `error`.
    async fn answer(error: fn() -> BoxError) -> Result<Response<Body>, BoxError> {
        let failing = service_fn(move |_: ()| async move { Err::<Response<Body>, BoxError>(error()) });
        RefusalResponseLayer::new("intake.motcua").layer(failing).oneshot(()).await
    }

    fn status(answer: Result<Response<Body>, BoxError>) -> Status {
        let response = answer.expect("answered with a status");
        Status::from_header_map(response.headers()).expect("a gRPC status")
    }

    #[tokio::test]
    async fn refusals_overload_and_expired_deadlines_become_statuses_and_other_errors_pass_on() {
        let refused = status(
            answer(|| {
                Refusal(ApiError::PermissionDenied { reason: "RPC_NOT_ALLOWED", description: "no".to_owned() }).into()
            })
            .await,
        );
        assert_eq!(refused.code(), Code::PermissionDenied);
        let info = refused.get_details_error_info().expect("ErrorInfo");
        assert_eq!((info.reason.as_str(), info.domain.as_str()), ("RPC_NOT_ALLOWED", "intake.motcua"));

        let shed = status(answer(|| Overloaded::new().into()).await);
        assert_eq!(shed.code(), Code::ResourceExhausted);
        assert_eq!(shed.get_details_error_info().expect("ErrorInfo").reason, "OVERLOADED");
        assert_eq!(shed.get_details_retry_info().expect("RetryInfo").retry_delay, Some(SHED_RETRY_AFTER));

        let expired = status(answer(|| tonic::TimeoutExpired(()).into()).await);
        assert_eq!((expired.code(), expired.message()), (Code::Cancelled, "Timeout expired"), "as tonic answers");

        let other = answer(|| "the connection broke".into()).await.expect_err("not a refusal");
        assert_eq!(other.to_string(), "the connection broke");
    }
}
