//! The guard: the gate every RPC passes before its handler, deciding who calls (client certificate,
//! or metadata in the development mode), whether the policy lets it call this RPC, and whether it is
//! within its request rate. The established [`Caller`] goes into the request's extensions; a call the
//! policy refuses is recorded in the audit trail as DENIED before its refusal goes back.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use http::Request;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::Layer;

use crate::{
    audit::AuditTrail,
    error::ApiError,
    identity::{self, Caller, IdentitySource},
    policy::PolicyStore,
    server::{Gate, Gated, Refusal, Refused},
};

/// Services every caller may reach: probes and tooling.
const OPEN_SERVICES: [&str; 3] =
    ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

/// How callers are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// By their verified client certificate.
    MutualTls,
    /// By metadata: development on loopback only.
    Development,
}

/// Everything the layer needs, shared by every connection.
#[derive(Clone)]
pub struct Guard {
    mode: AuthMode,
    policy: PolicyStore,
    limiter: Arc<RateLimiter>,
    denials: Arc<AtomicU64>,
    audit: AuditTrail,
}

/// A refused call: who it was, when it named someone, and why not.
struct Denial {
    identity: Option<String>,
    error: ApiError,
}

impl Guard {
    /// A guard identifying callers by `mode`, deciding by `policy`, allowing each identity
    /// `requests_per_second` (with a burst of twice that), its refusals recorded in `audit`.
    pub fn new(mode: AuthMode, policy: PolicyStore, requests_per_second: u32, audit: AuditTrail) -> Self {
        Self {
            mode,
            policy,
            limiter: Arc::new(RateLimiter::new(requests_per_second)),
            denials: Arc::new(AtomicU64::new(0)),
            audit,
        }
    }

    /// How many calls were refused since start-up.
    pub fn denials(&self) -> u64 {
        self.denials.load(Ordering::Relaxed)
    }

    /// The caller of `request`, or the error that refuses it.
    fn check<B>(&self, request: &Request<B>, rpc: &str) -> Result<Caller, Denial> {
        let (identity, source) = match self.mode {
            AuthMode::MutualTls => {
                let identity = request
                    .extensions()
                    .get::<TlsConnectInfo<TcpConnectInfo>>()
                    .and_then(TlsConnectInfo::peer_certs)
                    .and_then(|certificates| {
                        certificates.first().and_then(|certificate| identity::from_certificate(certificate))
                    });
                (identity, IdentitySource::ClientCertificate)
            }
            AuthMode::Development => {
                let value =
                    request.headers().get(identity::IDENTITY_HEADER).map(|value| value.to_str().unwrap_or("\u{0}"));
                (identity::from_metadata(value), IdentitySource::DevelopmentMetadata)
            }
        };
        let Some(identity) = identity else {
            return Err(Denial {
                identity: None,
                error: ApiError::Unauthenticated {
                    reason: "NO_IDENTITY",
                    description: "the call names no motcua identity (a client certificate with a spiffe://motcua/ URI)"
                        .to_owned(),
                },
            });
        };
        let Some(grant) = self.policy.current().grant_for(&identity, rpc) else {
            let description = format!("{identity} may not call {rpc}");
            return Err(Denial {
                identity: Some(identity),
                error: ApiError::PermissionDenied { reason: "RPC_NOT_ALLOWED", description },
            });
        };
        if let Err(retry_after) = self.limiter.take(&identity) {
            let description = format!("{identity} is over its request rate; retry shortly");
            return Err(Denial {
                identity: Some(identity),
                error: ApiError::ResourceExhausted { reason: "RATE_LIMITED", description, retry_after },
            });
        }
        Ok(Caller { identity, source, branches: grant.branches, procedures: grant.procedures })
    }
}

impl<S> Layer<S> for Guard {
    type Service = Gated<S, Self>;

    fn layer(&self, inner: S) -> Self::Service {
        Gated::new(inner, self.clone())
    }
}

impl Gate for Guard {
    /// The guard's decision is made before the call: it keeps nothing while it runs.
    type Held = Infallible;

    fn admit<B>(&self, request: &mut Request<B>) -> Result<Option<Infallible>, Refused> {
        let rpc = request.uri().path().trim_start_matches('/').to_owned();
        let service = rpc.split_once('/').map_or(rpc.as_str(), |(service, _)| service);
        if OPEN_SERVICES.contains(&service) {
            return Ok(None);
        }
        let Denial { identity, error } = match self.check(request, &rpc) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                return Ok(None);
            }
            Err(denial) => denial,
        };
        let denials = self.denials.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(rpc = %rpc, reason = error.reason(), denials_total = denials, "call refused");
        // A refusal by the policy is audited; one by the rate limit is load, not a decision about the
        // caller, and recording each would add a write to every call of a flood.
        if matches!(error, ApiError::ResourceExhausted { .. }) {
            return Err(Box::pin(std::future::ready(Refusal(error))));
        }
        let audit = self.audit.clone();
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        Err(Box::pin(async move {
            let recorded =
                audit.record_denied(&path, identity.as_deref(), &headers, error.code(), error.reason()).await;
            if let Err(failure) = recorded {
                // The refusal stands either way: nothing was done that the trail misses.
                tracing::error!(error = %failure, rpc = %path, "the refusal could not be recorded in the audit trail");
            }
            Refusal(error)
        }))
    }
}

/// A token bucket per identity: `rate` tokens a second, up to twice that saved up.
struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    fn new(requests_per_second: u32) -> Self {
        Self { rate: f64::from(requests_per_second.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token for `identity`, or says how long until there is one.
    fn take(&self, identity: &str) -> Result<(), Duration> {
        let capacity = self.rate * 2.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (tokens, last) = buckets.entry(identity.to_owned()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn a_burst_of_twice_the_rate_then_refusals_with_a_wait() {
        let limiter = RateLimiter::new(5);
        for _ in 0..10 {
            assert!(limiter.take("agency/a").is_ok());
        }
        let wait = limiter.take("agency/a").expect_err("over the rate");
        assert!(wait.as_millis() > 0 && wait.as_millis() <= 200);
        assert!(limiter.take("agency/b").is_ok(), "each identity has its own bucket");
    }
}
