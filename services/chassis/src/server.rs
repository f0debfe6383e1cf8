//! The gRPC server every service runs: its business service plus grpc.health.v1 and reflection (v1
//! and v1alpha), behind one stack of layers (tracing, refusals answered, the deadline, the guard, the
//! per-identity limit, load shedding, the audit trail: see `call_stack`), with a graceful shutdown
//! that reports NOT_SERVING, drains, and then stops.

mod deadline;
mod gate;
mod refusal;

use std::{future::Future, net::SocketAddr, pin::Pin};

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

use self::deadline::DeadlineLayer;
pub use self::{
    gate::{Gate, Gated, Refused},
    refusal::{Refusal, RefusalResponseLayer},
};

use crate::{
    audit::{AuditApi, AuditLayer, AuditTrail},
    auth::{AuthMode, Guard},
    config::ServiceConfig,
    grpc_trace::ServerTraceLayer,
    limits::ConcurrencyPerIdentityLayer,
    policy::{Policy, PolicyStore},
    tls::ServerTls,
};

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

    let reflection_v1 = reflection_builder(audit.services()).build_v1()?;
    let reflection_v1alpha = reflection_builder(audit.services()).build_v1alpha()?;
    let routes = routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        // The service's own audit trail, for auditors.
        .add_service(AuditApi::server(audit.clone()));

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

    let router = Server::builder().layer(call_stack(&config, &security, audit)).add_routes(routes);
    // Under mutual TLS the chassis handshakes itself, with the certificates on disk now (tls/server.rs).
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

/// Every call's way through the server, read top-down: the first layer is the first to see a call and
/// the last to see its answer. (Around it all, tonic maps what errors are left into statuses, and
/// reads `grpc-timeout` itself too, answering as the deadline layer does.)
fn call_stack(
    config: &ServiceConfig,
    security: &Security,
    audit: AuditTrail,
) -> impl Layer<
    Routes,
    Service = impl Service<Request<Body>, Response = Response<Body>, Error = BoxError, Future: Send>
              + Clone
              + Send
              + 'static
              + use<>,
> + Clone
+ use<> {
    let domain = config.kind.error_domain();
    ServiceBuilder::new()
        // A span for every RPC, so refused, shed and timed-out calls are visible too.
        .layer(ServerTraceLayer)
        // Every refusal below, and the deadline, becomes a gRPC status with ErrorInfo (and RetryInfo
        // where waiting helps) in the service's error domain: one place answers them all.
        .layer(RefusalResponseLayer::new(domain))
        // The caller's grpc-timeout when shorter, the service's own limit otherwise: no call runs on
        // for ever, whatever it waits for below.
        .layer(DeadlineLayer::new(config.request_timeout))
        // Who calls, and whether the policy and its rate let it: before any work is spent on it.
        // The guard records the calls the policy refuses in the audit trail.
        .layer(Guard::new(security.mode, security.policy.clone(), config.rate_limit_per_identity, audit.clone()))
        // One identity's open calls are capped, so it cannot take every slot below from the others.
        .layer(ConcurrencyPerIdentityLayer::new(config.concurrency_per_identity))
        // Overload is refused at once (RESOURCE_EXHAUSTED with RetryInfo), not queued to grow.
        .layer(LoadShedLayer::new())
        // One limit for the whole process, shared by every connection.
        .layer(GlobalConcurrencyLimitLayer::new(config.max_concurrent_requests))
        // Innermost: every mutation and personal-data read is recorded before its answer leaves, and
        // shed or rate-limited calls, which did nothing, cost no write.
        .layer(AuditLayer::new(audit))
}

/// The plaintext connections accepted on `listener` (the development mode and the probe port), with
/// `TCP_NODELAY` set: tonic applies its own `tcp_nodelay` only to listeners it binds itself, never to
/// `serve_with_incoming`, and without it each small answer on a kept connection waits for Nagle's
/// algorithm and the caller's delayed ACK, some 40 ms a call. The TLS listener sets it too (tls/server.rs).
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

/// Reflection that advertises this service's own services (`services`, those its audit trail classifies),
/// health, reflection, the audit trail and the jobs only: grpcurl's `list` on a port shows what that port
/// serves, though the descriptors of every contract are there to resolve types.
fn reflection_builder(services: &[String]) -> tonic_reflection::server::Builder<'static> {
    let shared = [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "motcua.audit.v1.AuditService",
        "motcua.jobs.v1.JobService",
    ];
    services.iter().map(String::as_str).chain(shared).fold(
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
