//! Clients of other motcua services: a lazily connected channel whose every call carries a client
//! span and the W3C trace context, so the callee's server span joins the caller's trace.

use std::time::Duration;

use anyhow::Context;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tower::ServiceBuilder;

use crate::{
    config::ServiceConfig,
    grpc_trace::{ClientTrace, ClientTraceLayer},
};

/// A channel to a peer service, traced. Hand it to a generated client: `IntakeServiceClient::new(channel)`.
pub type PeerChannel = ClientTrace<Channel>;

/// A channel to `url` (`http://127.0.0.1:50052`), connected on first use and reconnected when the peer
/// restarts, so a peer that is down delays a call rather than failing start-up.
pub fn connect_lazy(url: &str) -> Result<PeerChannel, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30));
    Ok(ServiceBuilder::new().layer(ClientTraceLayer).service(endpoint.connect_lazy()))
}

/// A channel from the service configured by `config` to a peer at `url`: with mutual TLS the
/// service presents its own certificate (its `spiffe://motcua/service/...` identity) and trusts peers
/// issued by the same CA as its callers; without TLS (development) a plaintext channel.
pub fn connect_as(config: &ServiceConfig, url: &str) -> anyhow::Result<PeerChannel> {
    let Some(files) = &config.tls else {
        return Ok(connect_lazy(url)?);
    };
    let read = |path: &std::path::Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&files.client_ca)?))
        .identity(Identity::from_pem(read(&files.cert)?, read(&files.key)?));
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .tls_config(tls)
        .context("the peer TLS configuration is not valid")?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30));
    Ok(ServiceBuilder::new().layer(ClientTraceLayer).service(endpoint.connect_lazy()))
}
