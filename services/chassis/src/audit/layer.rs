//! The tower layer that records every classified call: a mutation's record in the transaction of its
//! change (see [`super::call`]), every other call's after its handler answers and before the answer
//! leaves. No answer without its record.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{HeaderMap, Request, Response};
use motcua_proto::motcua::audit::v1::audit_record::Action;
use tonic::body::Body;
use tonic_types::StatusExt;
use tower::{Layer, Service};

use super::{AuditNote, AuditTrail, Kind, PendingCall, trace_id, trail_identity};
use crate::{error::ApiError, identity::Caller};

/// Records the calls of the RPCs its trail classifies as mutations or personal-data reads. Sits inside
/// the guard, which has established the caller.
#[derive(Clone)]
pub struct AuditLayer {
    trail: AuditTrail,
}

impl AuditLayer {
    /// A layer writing to `trail`.
    pub fn new(trail: AuditTrail) -> Self {
        Self { trail }
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = AuditedService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditedService { inner, trail: self.trail.clone() }
    }
}

/// The service made by [`AuditLayer`].
#[derive(Clone)]
pub struct AuditedService<S> {
    inner: S,
    trail: AuditTrail,
}

impl<S, B> Service<Request<B>> for AuditedService<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let rpc = request.uri().path().to_owned();
        let action = match self.trail.kind(&rpc) {
            Kind::Mutation => Action::Mutation,
            Kind::PersonalDataRead => Action::PersonalDataRead,
            Kind::NotRecorded => return Box::pin(self.inner.call(request)),
        };
        let note = AuditNote::fresh();
        request.extensions_mut().insert(note.clone());
        let identity =
            request.extensions().get::<Caller>().map(|caller| trail_identity(&caller.identity)).unwrap_or_default();
        let call =
            PendingCall::new(self.trail.clone(), note, identity, rpc.clone(), action, trace_id(request.headers()));
        let trail = self.trail.clone();
        let future = call.clone().scope(self.inner.call(request));
        Box::pin(async move {
            let response = future.await?;
            let (status_code, error_reason) = status_of(response.headers());
            let recorded = match call.written() {
                None => Ok(false),
                // A transaction that wrote the record and then answers OK has committed.
                Some(_) if status_code == 0 => Ok(true),
                Some(sequence) => trail.committed(sequence, &call.entry(status_code, String::new())).await,
            };
            let written = match recorded {
                Ok(true) => Ok(()),
                Ok(false) => trail.record(call.entry(status_code, error_reason)).await.map(|_| ()),
                Err(error) => Err(error),
            };
            match written {
                Ok(()) => Ok(response),
                Err(error) => {
                    // The act may have happened; the caller retries with the same request id, which
                    // the services replay, and that answer is recorded.
                    tracing::error!(error = %error, rpc = %rpc, "the audit record could not be written; answering UNAVAILABLE");
                    let status = ApiError::Unavailable {
                        reason: "AUDIT_UNAVAILABLE",
                        description:
                            "the call could not be recorded in the audit trail; retry with the same request id"
                                .to_owned(),
                    }
                    .into_status(trail.domain());
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// The status code and ErrorInfo reason of an answer. tonic answers an error trailers-only, its
/// status in the headers; a success carries `grpc-status: 0` in trailers that come later, so no
/// status in the headers means OK.
fn status_of(headers: &HeaderMap) -> (i32, String) {
    match tonic::Status::from_header_map(headers) {
        Some(status) if status.code() != tonic::Code::Ok => {
            let reason = status.get_error_details().error_info().map(|info| info.reason.clone()).unwrap_or_default();
            (status.code() as i32, reason)
        }
        _ => (0, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;
    use crate::error::ApiError;

    #[test]
    fn an_error_answer_gives_its_code_and_reason_and_a_success_gives_zero() {
        let status = ApiError::invalid("INVALID_PAGE_SIZE", "page_size", "must not be negative").into_status("x");
        let response = status.into_http::<tonic::body::Body>();
        assert_eq!(status_of(response.headers()), (3, "INVALID_PAGE_SIZE".to_owned()));
        assert_eq!(status_of(&http::HeaderMap::new()), (0, String::new()));
    }
}
