//! Gates: the checks a call must pass before it goes on (the guard's identity, policy and rate, the
//! per-identity limit), each written as its decision alone; [`Gated`] is the one tower service that
//! runs a gate in front of the layers below and raises its [`Refusal`].

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tower::{BoxError, Service};

use super::Refusal;

/// A refusal still being decided on, as the guard records it in the audit trail before it stands.
pub type Refused = Pin<Box<dyn Future<Output = Refusal> + Send>>;

/// A check a call must pass before it goes on.
pub trait Gate: Clone + Send + 'static {
    /// What an admitted call keeps until its answer's last frame is sent or its answer dropped, such
    /// as a slot of the per-identity limit; `Infallible` for a gate that keeps nothing.
    type Held: Send + Sync + 'static;

    /// Lets `request` through, with what it keeps (and the request annotated as the gate sees fit),
    /// or refuses it.
    fn admit<B>(&self, request: &mut Request<B>) -> Result<Option<Self::Held>, Refused>;
}

/// The service a gate stands in front of.
#[derive(Clone)]
pub struct Gated<S, G> {
    inner: S,
    gate: G,
}

impl<S, G> Gated<S, G> {
    /// `gate` in front of `inner`.
    pub fn new(inner: S, gate: G) -> Self {
        Self { inner, gate }
    }
}

impl<S, B, G> Service<Request<B>> for Gated<S, G>
where
    S: Service<Request<B>, Response = Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
    G: Gate,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match self.gate.admit(&mut request) {
            Ok(None) => Box::pin(self.inner.call(request)),
            Ok(Some(held)) => {
                let response = self.inner.call(request);
                Box::pin(async move {
                    let response = response.await?;
                    Ok(response.map(|body| Body::new(HoldingBody { inner: body, held: Some(held) })))
                })
            }
            Err(refused) => Box::pin(async move { Err(refused.await.into()) }),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body keeping what its call holds until its last frame, or until it is dropped.
    struct HoldingBody<H> {
        #[pin]
        inner: Body,
        held: Option<H>,
    }
}

impl<H> HttpBody for HoldingBody<H> {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if frame.is_none() {
            this.held.take();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
