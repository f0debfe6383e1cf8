//! The server side: the connections accepted on the service's port, each handshaken in a task of its
//! own with the server configuration current when it arrived (certificate and key, client
//! certificates verified against the client CA and CRL).

use std::{convert::Infallible, sync::Arc, time::Duration};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, rustls::ServerConfig};
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};

use super::{
    ALPN_H2, TlsError,
    pem::{pem_items, private_key},
    provider,
    reload::{Contents, Reloading},
    trust::client_verifier,
};
use crate::config::TlsFiles;

/// The longest a caller may take over its handshake before its connection is dropped, so a slow or
/// silent client holds nothing but its own task.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them up.
const HANDSHAKEN_BACKLOG: usize = 64;
/// The pause after a failed `accept` (out of file descriptors, say), so the loop does not spin.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// The server side: the configuration new connections are handshaken with, reloaded from the files.
#[derive(Clone)]
pub struct ServerTls {
    current: Arc<Reloading<ServerConfig>>,
}

impl ServerTls {
    /// Loads `files` (refusing to start when they are not valid) and re-checks them every `interval`.
    pub fn watch(files: &TlsFiles, interval: Duration) -> Result<Self, TlsError> {
        Ok(Self { current: Reloading::watch(files.clone(), interval, "server", server_config)? })
    }

    /// The connections accepted on `listener`, each handshaken in a task of its own with the
    /// configuration current when it arrived: a failed handshake is logged and dropped, a slow one
    /// delays no other. Accepting stops when the stream is dropped.
    pub fn incoming(
        &self,
        listener: TcpListener,
    ) -> impl Stream<Item = Result<tokio_rustls::server::TlsStream<TcpStream>, Infallible>> + Send + 'static {
        let (handshaken, receiver) = mpsc::channel(HANDSHAKEN_BACKLOG);
        let current = self.current.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = handshaken.closed() => return,
                    accepted = listener.accept() => accepted,
                };
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                        continue;
                    }
                };
                // Small gRPC frames should not wait for Nagle's algorithm.
                let _ = tcp.set_nodelay(true);
                let acceptor = TlsAcceptor::from(current.get());
                let handshaken = handshaken.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            // Refused only when the server has stopped accepting.
                            let _ = handshaken.send(stream).await;
                        }
                        Ok(Err(error)) => tracing::info!(%peer, %error, "TLS handshake refused"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(receiver).map(Ok)
    }
}

/// The server configuration the files make.
pub(super) fn server_config(files: &TlsFiles, contents: &Contents) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let verifier = client_verifier(files, contents, provider.clone())?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Invalid(error.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            pem_items(&files.cert, &contents.cert, "certificate")?,
            private_key(&files.key, &contents.key)?,
        )
        .map_err(|error| TlsError::Invalid(format!("certificate and key: {error}")))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use rcgen::KeyPair;

    use super::*;
    use crate::tls::fixtures::files;

    #[test]
    fn a_key_of_another_certificate_or_a_broken_crl_is_refused() {
        let (_folder, files, _) = files("invalid");
        let mut contents = Contents::read(&files).expect("readable");
        let other_key = KeyPair::generate().expect("key").serialize_pem();
        let key = std::mem::replace(&mut contents.key, other_key.into_bytes());
        assert!(matches!(server_config(&files, &contents), Err(TlsError::Invalid(_))));
        contents.key = key;
        contents.client_crl = Some(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n".to_vec());
        assert!(server_config(&files, &contents).is_err(), "a CRL that does not parse");
        contents.client_crl = Some(Vec::new());
        assert!(
            matches!(server_config(&files, &contents), Err(TlsError::Pem { what: "CRL", .. })),
            "an empty CRL file is an error, not revocation switched off"
        );
    }
}
