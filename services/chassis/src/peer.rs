//! Clients of other motcua services: a lazily connected channel whose every call carries a client
//! span and the W3C trace context, so the callee's server span joins the caller's trace, and which
//! names the calling service in the development mode; one reading of a peer's refusals; and the typed
//! clients services share (signing's, in [`signing`]; receipt's, in [`receipt`]).

pub mod receipt;
pub mod signing;

use std::{
    task::{Context, Poll},
    time::Duration,
};

use http::{HeaderValue, Uri};
use tonic::{
    Code, Status,
    body::Body,
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt;
use tower::{Service, ServiceBuilder};

use crate::{
    config::{ServiceConfig, ServiceKind},
    error::ApiError,
    grpc_trace::{ClientTrace, ClientTraceLayer},
    identity::IDENTITY_HEADER,
    tls::{ClientTls, TlsError},
};

/// A channel to a peer service, traced. Hand it to a generated client: `IntakeServiceClient::new(channel)`.
pub type PeerChannel = ClientTrace<NamedChannel>;

/// Why a channel to a peer cannot be made: start-up stops on it.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not one a channel can dial.
    #[error("{url:?} is not a peer URL ({why}): write it as http://host:port, or https://host:port under mutual TLS")]
    InvalidUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The service's own TLS files do not make a client configuration.
    #[error("the TLS configuration for {url} is not valid: {source}")]
    Tls {
        /// The peer's URL.
        url: String,
        /// What is wrong with the files.
        source: TlsError,
    },
}

/// A channel to `url` (`http://127.0.0.1:50052`) that names no caller, connected on first use and
/// reconnected when the peer restarts, so a peer that is down delays a call rather than failing
/// start-up. For tools and tests; services call [`connect_as`].
pub fn connect_lazy(url: &str) -> Result<PeerChannel, ConnectError> {
    let uri = parse(url)?;
    Ok(plaintext(&uri, None))
}

/// A channel from the service configured by `config` to a peer at `url`: with mutual TLS and an
/// `https` URL the service presents its own certificate (its `spiffe://motcua/service/...` identity)
/// and trusts peers issued by the same CA as its callers, with the files as they are on disk at each
/// new connection (tls/client.rs); otherwise (development) a plaintext channel on which the service names
/// itself (`service/intake`) in the identity metadata, so a policy file grants the same calls in both.
/// A URL that does not parse is an error here, at start-up, not at the first call.
pub fn connect_as(config: &ServiceConfig, url: &str) -> Result<PeerChannel, ConnectError> {
    let uri = parse(url)?;
    let files = match (&config.tls, uri.scheme_str()) {
        (Some(files), Some("https")) => files,
        _ => return Ok(plaintext(&uri, Some(identity_of(config.kind)))),
    };
    let authority = uri.authority().ok_or_else(|| invalid(url, "no host"))?;
    let tls_error = |source| ConnectError::Tls { url: url.to_owned(), source };
    let connector = ClientTls::watch(files, config.tls_reload_interval)
        .and_then(|tls| tls.connector(authority.host(), authority.port_u16().unwrap_or(443)))
        .map_err(tls_error)?;
    // tonic dials an `https` URL only with its own TLS, fixed at start-up; the connector does the TLS
    // here, so the channel is given the URL's `http` form.
    let endpoint = settings(Endpoint::from(parse(&format!("http://{authority}"))?));
    let channel = NamedChannel { inner: endpoint.connect_with_connector_lazy(connector), identity: None };
    Ok(ServiceBuilder::new().layer(ClientTraceLayer).service(channel))
}

/// The identity a service names itself by in the development mode, as its certificate would.
pub fn identity_of(kind: ServiceKind) -> String {
    format!("service/{}", kind.name())
}

fn parse(url: &str) -> Result<Uri, ConnectError> {
    let uri: Uri = url.parse().map_err(|error: http::uri::InvalidUri| invalid(url, &error.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(invalid(url, &format!("the scheme {other} is neither http nor https"))),
        None => return Err(invalid(url, "no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(url, "no host"));
    }
    Ok(uri)
}

fn invalid(url: &str, why: &str) -> ConnectError {
    ConnectError::InvalidUrl { url: url.to_owned(), why: why.to_owned() }
}

/// Every peer channel's settings: a bounded connect, small frames sent at once, and keep-alives that
/// find a dead connection before a call does.
fn settings(endpoint: Endpoint) -> Endpoint {
    endpoint
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
}

fn plaintext(uri: &Uri, identity: Option<String>) -> PeerChannel {
    let endpoint = settings(Endpoint::from(uri.clone()));
    let identity = identity.and_then(|identity| HeaderValue::from_str(&identity).ok());
    let channel = NamedChannel { inner: endpoint.connect_lazy(), identity };
    ServiceBuilder::new().layer(ClientTraceLayer).service(channel)
}

/// A channel that puts the calling service's identity in the development mode's metadata of every
/// call that names none. A service under mutual TLS ignores the metadata: the certificate names it.
#[derive(Debug, Clone)]
pub struct NamedChannel {
    inner: Channel,
    identity: Option<HeaderValue>,
}

impl Service<http::Request<Body>> for NamedChannel {
    type Response = <Channel as Service<http::Request<Body>>>::Response;
    type Error = <Channel as Service<http::Request<Body>>>::Error;
    type Future = <Channel as Service<http::Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<http::Request<Body>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        if let Some(identity) = &self.identity {
            request.headers_mut().entry(IDENTITY_HEADER).or_insert_with(|| identity.clone());
        }
        self.inner.call(request)
    }
}

/// Whether a peer's no is for good or for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerFailure {
    /// The peer refused the call (not found, not allowed, invalid, failed precondition): retrying the
    /// same call changes nothing; someone must act.
    Refused,
    /// The peer could not be reached, or failed for now: retry with the same request id.
    Unavailable,
}

impl PeerFailure {
    fn verb(self) -> &'static str {
        match self {
            Self::Refused => "refused the call",
            Self::Unavailable => "did not answer",
        }
    }
}

/// What a peer answered instead of a result, read the one way every service reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}: {} ({})", .peer.name(), .failure.verb(), .message, .reason)]
pub struct PeerError {
    /// The peer that answered.
    pub peer: ServiceKind,
    /// Whether for good or for now.
    pub failure: PeerFailure,
    /// The peer's ErrorInfo reason, or its status code's name (`UNAVAILABLE`) when it sent none.
    pub reason: String,
    /// The peer's message.
    pub message: String,
}

impl PeerError {
    /// Reads the status `peer` answered with.
    pub fn from_status(peer: ServiceKind, status: &Status) -> Self {
        let reason = status
            .get_error_details()
            .error_info()
            .map(|info| info.reason.clone())
            .unwrap_or_else(|| code_name(status.code()).to_owned());
        let failure = match status.code() {
            Code::NotFound
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::InvalidArgument
            | Code::AlreadyExists
            | Code::OutOfRange => PeerFailure::Refused,
            _ => PeerFailure::Unavailable,
        };
        Self { peer, failure, reason, message: status.message().to_owned() }
    }

    /// A peer that answered OK without what its contract promises: a fault of the peer, for now.
    pub fn incomplete(peer: ServiceKind, what: &str) -> Self {
        Self {
            peer,
            failure: PeerFailure::Unavailable,
            reason: "INCOMPLETE_ANSWER".to_owned(),
            message: format!("answered without {what}"),
        }
    }
}

/// What the caller of a service is told when the service's peer says no: FAILED_PRECONDITION
/// (`SIGNING_REFUSED`, the peer's domain as the subject, its reason in the description) when the peer
/// refused; UNAVAILABLE (`SIGNING_UNAVAILABLE`, with RetryInfo) when it is down or failed for now.
impl From<PeerError> for ApiError {
    fn from(error: PeerError) -> Self {
        let peer = error.peer.name();
        match error.failure {
            PeerFailure::Refused => ApiError::FailedPrecondition {
                reason: refused_reason(error.peer),
                violation_type: "PEER",
                subject: error.peer.error_domain().to_owned(),
                description: format!("{peer} refused ({}): {}", error.reason, error.message),
            },
            PeerFailure::Unavailable => ApiError::Unavailable {
                reason: unavailable_reason(error.peer),
                description: format!("{peer} did not answer ({}); retry with the same request_id", error.reason),
            },
        }
    }
}

fn refused_reason(peer: ServiceKind) -> &'static str {
    match peer {
        ServiceKind::Intake => "INTAKE_REFUSED",
        ServiceKind::Signing => "SIGNING_REFUSED",
        ServiceKind::Receipt => "RECEIPT_REFUSED",
        ServiceKind::Reporting => "REPORTING_REFUSED",
    }
}

fn unavailable_reason(peer: ServiceKind) -> &'static str {
    match peer {
        ServiceKind::Intake => "INTAKE_UNAVAILABLE",
        ServiceKind::Signing => "SIGNING_UNAVAILABLE",
        ServiceKind::Receipt => "RECEIPT_UNAVAILABLE",
        ServiceKind::Reporting => "REPORTING_UNAVAILABLE",
    }
}

/// The canonical name of `code`, as a reason when the peer sent no ErrorInfo.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
