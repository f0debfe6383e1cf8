//! The gRPC server every service runs: its business service plus grpc.health.v1 and reflection (v1
//! and v1alpha), behind deadlines, a concurrency limit with load shedding and tracing, with a graceful
//! shutdown that reports NOT_SERVING, drains, and then stops.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
};

use anyhow::Context as _;
use http::{Request, Response};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{
    body::Body,
    service::Routes,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::{BoxError, Layer, Service, ServiceBuilder, limit::GlobalConcurrencyLimitLayer, load_shed::LoadShedLayer};

use crate::{
    audit::{AuditApi, AuditLayer, AuditTrail},
    auth::{AuthMode, Guard},
    config::ServiceConfig,
    error::ApiError,
    grpc_trace::ServerTraceLayer,
    limits::ConcurrencyPerIdentityLayer,
    policy::{Policy, PolicyStore},
    tls::ServerTls,
};

/// How long a shed caller is told to wait before retrying.
const SHED_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// A service serving on a socket, with the means to stop it.
pub struct RunningServer {
    /// Where it listens.
    pub local_addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Starts the graceful shutdown and waits for it to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        // The server may already have stopped on its own; then there is nobody to tell.
        let _ = self.shutdown.send(());
        self.task.await.context("the server task panicked")?
    }

    /// Waits until the server stops (after a shutdown signal or a failure).
    pub async fn wait(self) -> anyhow::Result<()> {
        let Self { shutdown, task, .. } = self;
        let result = task.await.context("the server task panicked")?;
        drop(shutdown);
        result
    }
}

/// Binds `config.listen_addr` and serves `routes` (the service's own gRPC services), recording its calls
/// in `audit`, in a background task until [`RunningServer::stop`], or until `external_shutdown` resolves.
pub async fn start(
    config: &ServiceConfig,
    routes: Routes,
    audit: AuditTrail,
    external_shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let security = Security::from_config(config)?;
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
    let local_addr = listener.local_addr()?;
    // Kubernetes' native gRPC probes speak plaintext and present no certificate: under mutual TLS they
    // reach grpc.health.v1 alone, on a port of its own.
    let health_listener = match config.health_listen_addr {
        Some(addr) => {
            Some(TcpListener::bind(addr).await.with_context(|| format!("cannot listen for probes on {addr}"))?)
        }
        None => None,
    };
    let (shutdown, shutdown_requested) = oneshot::channel::<()>();
    let config = config.clone();
    let task = tokio::spawn(async move {
        let stop = async move {
            tokio::select! {
                _ = shutdown_requested => {}
                () = external_shutdown => {}
            }
        };
        serve(config, security, routes, audit, listener, health_listener, stop).await
    });
    Ok(RunningServer { local_addr, shutdown, task })
}

async fn serve(
    config: ServiceConfig,
    security: Security,
    routes: Routes,
    audit: AuditTrail,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service_name = config.kind.grpc_service_name();
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status(service_name, ServingStatus::Serving).await;
    health.set_service_status("", ServingStatus::Serving).await;
    let (health_stop, health_stopped) = oneshot::channel::<()>();
    if let Some(listener) = health_listener {
        let probes = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(health.clone()),
        );
        tokio::spawn(Server::builder().add_service(probes).serve_with_incoming_shutdown(
            plaintext_incoming(listener),
            async {
                let _ = health_stopped.await;
            },
        ));
    }

    let reflection_v1 = reflection_builder(service_name).build_v1()?;
    let reflection_v1alpha = reflection_builder(service_name).build_v1alpha()?;
    let routes = routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        // The service's own audit trail, for auditors.
        .add_service(AuditApi::server(audit.clone()));

    // Read top-down, outermost first.
    let layers = ServiceBuilder::new()
        // A span for every RPC, so refused, shed and timed-out calls are visible too.
        .layer(ServerTraceLayer)
        // Who calls, and whether the policy and its rate let it: before any work is spent on it.
        // The guard records the calls the policy refuses in the audit trail.
        .layer(Guard::new(
            security.mode,
            security.policy,
            config.rate_limit_per_identity,
            config.kind.error_domain(),
            audit.clone(),
        ))
        // One identity's open calls are capped, so it cannot take every slot below from the others.
        .layer(ConcurrencyPerIdentityLayer::new(config.concurrency_per_identity, config.kind.error_domain()))
        // Overload becomes RESOURCE_EXHAUSTED with RetryInfo rather than a queue that grows.
        .layer(ShedResponseLayer { domain: config.kind.error_domain() })
        .layer(LoadShedLayer::new())
        // One limit for the whole process, shared by every connection.
        .layer(GlobalConcurrencyLimitLayer::new(config.max_concurrent_requests))
        // Innermost: every mutation and personal-data read is recorded before its answer leaves, and
        // shed or rate-limited calls, which did nothing, cost no write.
        .layer(AuditLayer::new(audit));

    let drain = config.shutdown_drain;
    let grace = config.shutdown_grace;
    let (closing, closed) = oneshot::channel::<()>();
    let graceful = async move {
        stop.await;
        // Probes see NOT_SERVING first, so load balancers stop sending before the listener closes.
        set_all(&health, service_name, ServingStatus::NotServing).await;
        tracing::info!(service = service_name, drain_ms = drain.as_millis() as u64, "shutting down: draining");
        tokio::time::sleep(drain).await;
        let _ = closing.send(());
    };

    let router = Server::builder()
        // Deadline: the caller's grpc-timeout when shorter, this otherwise.
        .timeout(config.request_timeout)
        .layer(layers)
        .add_routes(routes);
    // Under mutual TLS the chassis handshakes itself, with the certificates on disk now (tls.rs).
    let server: Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> = match security.tls {
        Some(tls) => Box::pin(router.serve_with_incoming_shutdown(tls.incoming(listener), graceful)),
        None => Box::pin(router.serve_with_incoming_shutdown(plaintext_incoming(listener), graceful)),
    };
    tokio::pin!(server);

    tokio::select! {
        result = &mut server => {
            let _ = health_stop.send(());
            return result.context("the gRPC server failed");
        }
        _ = closed => {}
    }
    // The listener is closed; in-flight calls get the grace period to finish.
    let outcome = tokio::time::timeout(grace, server).await;
    let _ = health_stop.send(());
    match outcome {
        Ok(result) => result.context("the gRPC server failed"),
        Err(_) => {
            tracing::warn!(service = service_name, "in-flight requests outlived the grace period");
            Ok(())
        }
    }
}

/// The plaintext connections accepted on `listener` (the development mode and the probe port), with
/// `TCP_NODELAY` set: tonic applies its own `tcp_nodelay` only to listeners it binds itself, never to
/// `serve_with_incoming`, and without it each small answer on a kept connection waits for Nagle's
/// algorithm and the caller's delayed ACK, some 40 ms a call. The TLS listener sets it too (tls.rs).
pub fn plaintext_incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// How callers are identified and what they may do, decided once at start-up.
struct Security {
    mode: AuthMode,
    policy: PolicyStore,
    tls: Option<ServerTls>,
}

impl Security {
    /// Mutual TLS with a policy file in production; the development mode only when asked for and
    /// only on loopback; nothing else starts.
    fn from_config(config: &ServiceConfig) -> anyhow::Result<Self> {
        let service = config.kind.name();
        if let Some(files) = &config.tls {
            let tls = ServerTls::watch(files, config.tls_reload_interval)
                .with_context(|| format!("{service}: the TLS configuration is not valid"))?;
            let Some(policy_file) = &config.policy_file else {
                anyhow::bail!("{service}: mutual TLS needs a policy file ({})", crate::config::ENV_POLICY_FILE);
            };
            let policy = PolicyStore::watch(policy_file.clone()).map_err(anyhow::Error::msg)?;
            return Ok(Self { mode: AuthMode::MutualTls, policy, tls: Some(tls) });
        }
        if !config.dev_identity {
            anyhow::bail!(
                "{service}: no caller identity is configured: set {}, {} and {} (production), or {}=true on a loopback address (development)",
                crate::config::ENV_TLS_CERT,
                crate::config::ENV_TLS_KEY,
                crate::config::ENV_TLS_CLIENT_CA,
                crate::config::ENV_DEV_IDENTITY
            );
        }
        if !config.listen_addr.ip().is_loopback() {
            anyhow::bail!("{service}: the development identity mode serves loopback only, not {}", config.listen_addr);
        }
        tracing::warn!(
            service,
            "DEVELOPMENT IDENTITY MODE: plaintext, and callers name themselves in x-motcua-identity metadata; never use it in production"
        );
        let policy = match &config.policy_file {
            Some(path) => PolicyStore::watch(path.clone()).map_err(anyhow::Error::msg)?,
            None => PolicyStore::fixed(Policy::allow_everyone()),
        };
        Ok(Self { mode: AuthMode::Development, policy, tls: None })
    }
}

/// Reflection that advertises this service, health, reflection and the audit trail only: grpcurl's `list` on a port
/// shows what that port serves, though the descriptors of every contract are there to resolve types.
fn reflection_builder(service_name: &str) -> tonic_reflection::server::Builder<'static> {
    [
        service_name,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "motcua.audit.v1.AuditService",
        "motcua.jobs.v1.JobService",
    ]
    .into_iter()
    .fold(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(motcua_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
        |builder, name| builder.with_service_name(name),
    )
}

async fn set_all(health: &HealthReporter, service_name: &str, status: ServingStatus) {
    health.set_service_status(service_name, status).await;
    health.set_service_status("", status).await;
}

/// Turns the load shedder's `Overloaded` error into a RESOURCE_EXHAUSTED response with ErrorInfo and
/// RetryInfo.
#[derive(Debug, Clone, Copy)]
struct ShedResponseLayer {
    domain: &'static str,
}

impl<S> Layer<S> for ShedResponseLayer {
    type Service = ShedResponse<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ShedResponse { inner, domain: self.domain }
    }
}

#[derive(Debug, Clone)]
struct ShedResponse<S> {
    inner: S,
    domain: &'static str,
}

impl<S, B> Service<Request<B>> for ShedResponse<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let future = self.inner.call(request);
        let domain = self.domain;
        Box::pin(async move {
            match future.await {
                Err(error) if error.is::<tower::load_shed::error::Overloaded>() => {
                    let status = ApiError::ResourceExhausted {
                        reason: "OVERLOADED",
                        description: "the service is at its concurrency limit; retry shortly".to_owned(),
                        retry_after: SHED_RETRY_AFTER,
                    }
                    .into_status(domain);
                    Ok(status.into_http())
                }
                other => other,
            }
        })
    }
}
