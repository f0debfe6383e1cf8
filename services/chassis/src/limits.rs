//! A limit on the calls each caller identity has open at once, so one agency's burst or its pile of
//! streams cannot take the whole process's concurrency from every other caller. It sits after the
//! Guard and counts by the [`Caller`] the Guard put in the request's extensions; calls without one
//! (health, reflection) are not counted. A call over its identity's limit is refused: the server's
//! refusal layer answers it RESOURCE_EXHAUSTED (`CONCURRENCY_LIMITED`) with RetryInfo.
//!
//! A call holds its slot until its response body ends or is dropped: a unary call until its answer
//! is sent, a server stream such as WatchEvents for as long as it is open. A stream the caller
//! cancels, or whose connection breaks, frees its slot when the server drops it, so no slot is held
//! past the end of its call.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use http::Request;
use tower::Layer;

use crate::{
    error::ApiError,
    identity::Caller,
    server::{Gate, Gated, Refusal, Refused},
};

/// What a refused caller is told to wait: a slot frees when one of its own calls ends.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The layer: `limit` open calls per identity.
#[derive(Clone)]
pub struct ConcurrencyPerIdentityLayer {
    open: Arc<OpenCalls>,
}

impl ConcurrencyPerIdentityLayer {
    /// At most `limit` (at least 1) calls open per identity.
    pub fn new(limit: usize) -> Self {
        Self { open: Arc::new(OpenCalls { limit: limit.max(1), by_identity: Mutex::new(HashMap::new()) }) }
    }
}

impl<S> Layer<S> for ConcurrencyPerIdentityLayer {
    type Service = Gated<S, Self>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated::new(inner, self.clone())
    }
}

impl Gate for ConcurrencyPerIdentityLayer {
    /// The call's slot, freed when its answer has been sent or dropped.
    type Held = Slot;

    fn admit<B>(&self, request: &mut Request<B>) -> Result<Option<Slot>, Refused> {
        let Some(identity) = request.extensions().get::<Caller>().map(|caller| caller.identity.clone()) else {
            return Ok(None);
        };
        if let Some(slot) = self.open.take(&identity) {
            return Ok(Some(slot));
        }
        let limit = self.open.limit;
        tracing::warn!(rpc = request.uri().path(), identity, limit, "call refused: its identity has every slot open");
        Err(Box::pin(std::future::ready(Refusal(ApiError::ResourceExhausted {
            reason: "CONCURRENCY_LIMITED",
            description: format!("{identity} already has {limit} calls open, its limit; retry when one ends"),
            retry_after: RETRY_AFTER,
        }))))
    }
}

/// The calls open per identity.
struct OpenCalls {
    limit: usize,
    by_identity: Mutex<HashMap<String, usize>>,
}

impl OpenCalls {
    /// A slot for `identity`, or `None` when it has all of its slots open.
    fn take(self: &Arc<Self>, identity: &str) -> Option<Slot> {
        let mut by_identity = self.by_identity.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = by_identity.entry(identity.to_owned()).or_insert(0);
        if *open >= self.limit {
            return None;
        }
        *open += 1;
        Some(Slot { open_calls: self.clone(), identity: identity.to_owned() })
    }

    #[cfg(test)]
    fn open(&self, identity: &str) -> usize {
        self.by_identity.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(identity).copied().unwrap_or(0)
    }
}

/// One open call; dropping it frees the slot.
pub struct Slot {
    open_calls: Arc<OpenCalls>,
    identity: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut by_identity = self.open_calls.by_identity.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(open) = by_identity.get_mut(&self.identity) {
            *open = open.saturating_sub(1);
            // Identities that have nothing open take no memory.
            if *open == 0 {
                by_identity.remove(&self.identity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        pin::Pin,
        task::{Context, Poll},
    };

    use http::Response;
    use http_body::{Body as HttpBody, Frame};
    use tonic::{Code, Status, body::Body};
    use tonic_types::StatusExt;
    use tower::{BoxError, Service, ServiceBuilder, ServiceExt, service_fn};

    use super::*;
    use crate::{identity::IdentitySource, server::RefusalResponseLayer};

    fn request_from(identity: &str) -> Request<()> {
        let mut request =
            Request::builder().uri("/motcua.intake.v1.IntakeService/WatchEvents").body(()).expect("request");
        request.extensions_mut().insert(Caller {
            identity: identity.to_owned(),
            source: IdentitySource::ClientCertificate,
            branches: Vec::new(),
            procedures: Vec::new(),
        });
        request
    }

    type Bytes = <Body as HttpBody>::Data;

    /// A response body of one frame, as a unary answer is.
    struct OneFrame(bool);

    impl HttpBody for OneFrame {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let sent = std::mem::replace(&mut self.0, true);
            Poll::Ready((!sent).then(|| Ok(Frame::data(Bytes::from_static(b"answer")))))
        }

        fn is_end_stream(&self) -> bool {
            self.0
        }
    }

    /// The limit in front of a service answering at once, its refusals answered as the server does.
    fn limited(
        layer: &ConcurrencyPerIdentityLayer,
    ) -> impl Service<Request<()>, Response = Response<Body>, Error = BoxError> + use<> {
        ServiceBuilder::new().layer(RefusalResponseLayer::new("intake.motcua")).layer(layer.clone()).service(
            service_fn(|_: Request<()>| async { Ok::<_, BoxError>(Response::new(Body::new(OneFrame(false)))) }),
        )
    }

    #[tokio::test]
    async fn a_call_holds_its_slot_until_its_body_is_done_and_each_identity_counts_apart() {
        let layer = ConcurrencyPerIdentityLayer::new(2);
        let first = limited(&layer).oneshot(request_from("agency/a")).await.expect("served");
        let second = limited(&layer).oneshot(request_from("agency/a")).await.expect("served");
        assert_eq!(layer.open.open("agency/a"), 2);

        let refused = limited(&layer).oneshot(request_from("agency/a")).await.expect("answered");
        let status = Status::from_header_map(refused.headers()).expect("a gRPC status");
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = status.get_error_details();
        assert_eq!(details.error_info().expect("ErrorInfo").reason, "CONCURRENCY_LIMITED");
        assert!(details.retry_info().is_some(), "RetryInfo says when to retry");

        let other = limited(&layer).oneshot(request_from("agency/b")).await.expect("served");
        assert_eq!(layer.open.open("agency/b"), 1, "another identity has slots of its own");

        // A body read to its end frees the slot; a dropped one (a cancelled stream) does too.
        let mut body = Box::pin(first.into_body());
        while std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await.is_some() {}
        assert_eq!(layer.open.open("agency/a"), 1);
        drop(second);
        drop(other);
        assert_eq!(layer.open.open("agency/a"), 0);
        assert!(layer.open.by_identity.lock().expect("lock").is_empty(), "idle identities are forgotten");
        limited(&layer).oneshot(request_from("agency/a")).await.expect("served again");
    }

    #[tokio::test]
    async fn calls_without_a_caller_are_not_counted() {
        let layer = ConcurrencyPerIdentityLayer::new(1);
        let request = || Request::builder().uri("/grpc.health.v1.Health/Check").body(()).expect("request");
        let _held = limited(&layer).oneshot(request()).await.expect("served");
        let again = limited(&layer).oneshot(request()).await.expect("served");
        assert!(Status::from_header_map(again.headers()).is_none(), "not refused");
    }
}
