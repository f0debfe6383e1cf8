//! Clients of other motcua services: a lazily connected channel whose every call carries a client
//! span and the W3C trace context, so the callee's server span joins the caller's trace.

use std::time::Duration;

use anyhow::Context;
use http::Uri;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceBuilder;

use crate::{
    config::ServiceConfig,
    grpc_trace::{ClientTrace, ClientTraceLayer},
    tls::ClientTls,
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

/// A channel from the service configured by `config` to a peer at `url`: with mutual TLS and an
/// `https` URL the service presents its own certificate (its `spiffe://motcua/service/...` identity)
/// and trusts peers issued by the same CA as its callers, with the files as they are on disk at each
/// new connection (tls.rs); otherwise (development) a plaintext channel.
pub fn connect_as(config: &ServiceConfig, url: &str) -> anyhow::Result<PeerChannel> {
    let Some(files) = &config.tls else {
        return Ok(connect_lazy(url)?);
    };
    let uri: Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    let (Some("https"), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Ok(connect_lazy(url)?);
    };
    let connector = ClientTls::watch(files, config.tls_reload_interval)
        .and_then(|tls| tls.connector(authority.host(), authority.port_u16().unwrap_or(443)))
        .with_context(|| format!("the TLS configuration for {url} is not valid"))?;
    // tonic dials an `https` URL only with its own TLS, fixed at start-up; the connector does the TLS
    // here, so the channel is given the URL's `http` form.
    let endpoint = Endpoint::from_shared(format!("http://{authority}"))?
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(30));
    Ok(ServiceBuilder::new().layer(ClientTraceLayer).service(endpoint.connect_with_connector_lazy(connector)))
}
