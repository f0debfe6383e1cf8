//! The client side, for calls to peer services: a connector that dials each new connection with the
//! client configuration current then (the service's own certificate, the CA its peers chain to).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::{
    TlsConnector,
    rustls::{ClientConfig, pki_types::ServerName},
};

use super::{
    ALPN_H2, TlsError,
    pem::{pem_items, private_key},
    provider,
    reload::{Contents, Reloading},
    trust::roots,
};
use crate::config::TlsFiles;

/// The client side, for calls to peer services: the configuration new connections dial with.
#[derive(Clone)]
pub struct ClientTls {
    current: Arc<Reloading<ClientConfig>>,
}

impl ClientTls {
    /// Loads `files` (the service's own certificate and key, and the CA its peers' certificates must
    /// chain to) and re-checks them every `interval`.
    pub fn watch(files: &TlsFiles, interval: Duration) -> Result<Self, TlsError> {
        Ok(Self { current: Reloading::watch(files.clone(), interval, "client", client_config)? })
    }

    /// A connector to `host:port` that expects the peer's certificate to name `host`.
    pub fn connector(&self, host: &str, port: u16) -> Result<PeerConnector, TlsError> {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let server_name = ServerName::try_from(host.clone())
            .map_err(|error| TlsError::Invalid(format!("{host} is not a server name: {error}")))?;
        Ok(PeerConnector { current: self.current.clone(), host, port, server_name })
    }
}

/// Dials one peer over TLS with the client configuration current at each connection. A tower
/// service, for `Endpoint::connect_with_connector_lazy`; it ignores the URI it is given and dials
/// the address it was made for.
#[derive(Clone)]
pub struct PeerConnector {
    current: Arc<Reloading<ClientConfig>>,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
}

impl tower_service::Service<Uri> for PeerConnector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let connector = TlsConnector::from(self.current.get());
        let (host, port, server_name) = (self.host.clone(), self.port, self.server_name.clone());
        Box::pin(async move {
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(connector.connect(server_name, tcp).await?))
        })
    }
}

/// The client configuration the files make.
pub(super) fn client_config(files: &TlsFiles, contents: &Contents) -> Result<ClientConfig, TlsError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Invalid(error.to_string()))?
        .with_root_certificates(roots(&files.client_ca, &contents.client_ca)?)
        .with_client_auth_cert(
            pem_items(&files.cert, &contents.cert, "certificate")?,
            private_key(&files.key, &contents.key)?,
        )
        .map_err(|error| TlsError::Invalid(format!("certificate and key: {error}")))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio::net::TcpListener;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_stream::StreamExt;
    use tower_service::Service as _;

    use super::*;
    use crate::tls::{
        ServerTls,
        fixtures::{files, issue},
    };

    #[tokio::test]
    async fn peers_dial_with_the_client_files_as_they_are_and_bad_handshakes_stop_no_one() {
        let (folder, server_files, issuer) = files("peer");
        let server = ServerTls::watch(&server_files, Duration::from_secs(3600)).expect("valid files");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let mut incoming = Box::pin(server.incoming(listener));

        let (first_cert, first_key) = issue(&issuer);
        let client_files = TlsFiles {
            cert: folder.0.join("client.crt"),
            key: folder.0.join("client.key"),
            client_ca: server_files.client_ca.clone(),
            client_crl: None,
        };
        std::fs::write(&client_files.cert, &first_cert).expect("write");
        std::fs::write(&client_files.key, first_key).expect("write");
        let (client, mut seen) = Reloading::load(&client_files, client_config).expect("valid client files");
        let client = ClientTls { current: Arc::new(client) };
        let mut connector = client.connector("localhost", port).expect("a server name");
        let uri = Uri::from_static("http://localhost");

        // One caller that never speaks and one that speaks no TLS: neither holds up the next.
        let _silent = TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
        let mut garbage = TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
        tokio::io::AsyncWriteExt::write_all(&mut garbage, b"GET / HTTP/1.1\r\n\r\n").await.expect("written");

        let presented = |stream: &tokio_rustls::server::TlsStream<TcpStream>| {
            stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first().cloned())
                .expect("a client certificate")
        };
        let (_dialled, accepted) = tokio::join!(connector.call(uri.clone()), incoming.next());
        let accepted = accepted.expect("a connection").expect("infallible");
        assert!(accepted.get_ref().0.nodelay().expect("readable"), "TCP_NODELAY on the accepted socket");
        assert_eq!(
            presented(&accepted),
            pem_items::<CertificateDer>(Path::new("first"), first_cert.as_bytes(), "c").expect("PEM")[0]
        );

        // Rotated on disk: the next connection presents the new certificate.
        let (second_cert, second_key) = issue(&issuer);
        std::fs::write(&client_files.cert, &second_cert).expect("write");
        std::fs::write(&client_files.key, second_key).expect("write");
        assert!(client.current.check(&client_files, &mut seen, client_config).expect("valid"), "reloaded");
        let (_dialled, accepted) = tokio::join!(connector.call(uri), incoming.next());
        let accepted = accepted.expect("a connection").expect("infallible");
        assert_eq!(
            presented(&accepted),
            pem_items::<CertificateDer>(Path::new("second"), second_cert.as_bytes(), "c").expect("PEM")[0]
        );
    }
}
