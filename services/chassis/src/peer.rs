//! Clients of other motcua services: a lazily connected channel whose every call carries a client
//! span and the W3C trace context, so the callee's server span joins the caller's trace.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tower::ServiceBuilder;

use crate::grpc_trace::{ClientTrace, ClientTraceLayer};

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
