//! Mutual TLS whose files are re-read while the service runs: the certificate, key, client CA and
//! client revocation lists are checked every `MOTCUA_TLS_RELOAD_INTERVAL_MS`, and a changed set that
//! is valid becomes the configuration of every new connection, served and dialled, without a restart.
//! A set that does not parse (or a key that does not match its certificate) is logged and the
//! configuration in force stays. Connections already open keep the configuration they were made with.
//!
//! The whole rustls configuration is rebuilt from the files rather than a certificate resolver and a
//! verifier reloaded apart: one rebuild keeps the certificate, key, CA and CRL that were valid together.

use std::{
    convert::Infallible,
    future::Future,
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
    time::Duration,
};

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{
    TlsAcceptor, TlsConnector,
    rustls::{
        ClientConfig, RootCertStore, ServerConfig,
        crypto::{CryptoProvider, ring},
        pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, pem::PemObject},
        server::WebPkiClientVerifier,
    },
};
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};

use crate::config::TlsFiles;

/// gRPC is HTTP/2 only.
const ALPN_H2: &[u8] = b"h2";
/// The longest a caller may take over its handshake before its connection is dropped, so a slow or
/// silent client holds nothing but its own task.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them up.
const HANDSHAKEN_BACKLOG: usize = 64;
/// The pause after a failed `accept` (out of file descriptors, say), so the loop does not spin.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Why the TLS files do not make a configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file holds nothing usable of what it should.
    #[error("{} holds no valid PEM {what}: {detail}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What it should hold: `certificate`, `private key`, `CRL`.
        what: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The files parse but do not make a configuration (key and certificate do not match, a CRL is
    /// not valid).
    #[error("the TLS files do not make a valid configuration: {0}")]
    Invalid(String),
}

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

/// A configuration built from the TLS files, rebuilt by a background task when they change.
struct Reloading<T> {
    current: RwLock<Arc<T>>,
}

type Build<T> = fn(&TlsFiles, &Contents) -> Result<T, TlsError>;

impl<T: Send + Sync + 'static> Reloading<T> {
    /// Loads the files, then checks them every `interval` until the last holder is dropped.
    fn watch(files: TlsFiles, interval: Duration, side: &'static str, build: Build<T>) -> Result<Arc<Self>, TlsError> {
        let (reloading, mut seen) = Self::load(&files, build)?;
        let reloading = Arc::new(reloading);
        let weak = Arc::downgrade(&reloading);
        tokio::spawn(async move {
            let mut unreadable = false;
            loop {
                tokio::time::sleep(interval).await;
                let Some(reloading) = weak.upgrade() else { return };
                let outcome = reloading.check(&files, &mut seen, build);
                match &outcome {
                    Ok(false) => {}
                    Ok(true) => tracing::info!(side, cert = %files.cert.display(), "TLS configuration reloaded"),
                    // Reported once, not at every check while a rotation is half-way.
                    Err(TlsError::Read { .. }) if unreadable => {}
                    Err(error @ TlsError::Read { .. }) => {
                        tracing::warn!(side, %error, "TLS files unreadable; keeping the configuration in force")
                    }
                    Err(error) => tracing::error!(
                        side,
                        %error,
                        "TLS files changed but are not valid; keeping the configuration in force"
                    ),
                }
                unreadable = matches!(outcome, Err(TlsError::Read { .. }));
            }
        });
        Ok(reloading)
    }
}

impl<T> Reloading<T> {
    /// The configuration the files make now, and what they held.
    fn load(files: &TlsFiles, build: Build<T>) -> Result<(Self, Contents), TlsError> {
        let contents = Contents::read(files)?;
        let config = build(files, &contents)?;
        Ok((Self { current: RwLock::new(Arc::new(config)) }, contents))
    }

    /// Reads the files and, when they differ from `seen`, rebuilds: `Ok(true)` when the new
    /// configuration is in force, `Ok(false)` when nothing changed, an error when the files cannot be
    /// read or do not make a configuration (the one in force stays). A set that failed is not tried
    /// again until a file changes once more.
    fn check(&self, files: &TlsFiles, seen: &mut Contents, build: Build<T>) -> Result<bool, TlsError> {
        let contents = Contents::read(files)?;
        if contents == *seen {
            return Ok(false);
        }
        let built = build(files, &contents);
        *seen = contents;
        let config = Arc::new(built?);
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
        Ok(true)
    }

    fn get(&self) -> Arc<T> {
        self.current.read().map(|current| current.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

/// The bytes of the TLS files, as read in one check.
#[derive(Debug, PartialEq, Eq)]
struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Vec<u8>,
    client_crl: Option<Vec<u8>>,
}

impl Contents {
    fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        let read = |path: &Path| std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source });
        Ok(Self {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
            client_ca: read(&files.client_ca)?,
            client_crl: files.client_crl.as_deref().map(read).transpose()?,
        })
    }
}

fn server_config(files: &TlsFiles, contents: &Contents) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let mut verifier = WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots(&files.client_ca, &contents.client_ca)?),
        provider.clone(),
    );
    if let (Some(path), Some(bytes)) = (&files.client_crl, &contents.client_crl) {
        verifier = verifier.with_crls(pem_items::<CertificateRevocationListDer<'static>>(path, bytes, "CRL")?);
    }
    let verifier = verifier.build().map_err(|error| TlsError::Invalid(format!("client CA or CRL: {error}")))?;
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

fn client_config(files: &TlsFiles, contents: &Contents) -> Result<ClientConfig, TlsError> {
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

/// The ring provider, as tonic's own TLS uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn roots(path: &Path, bytes: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in pem_items::<CertificateDer<'static>>(path, bytes, "CA certificate")? {
        roots.add(certificate).map_err(|error| TlsError::Invalid(format!("{}: {error}", path.display())))?;
    }
    Ok(roots)
}

/// Every PEM item of type `T` in `bytes`, at least one.
fn pem_items<T: PemObject>(path: &Path, bytes: &[u8], what: &'static str) -> Result<Vec<T>, TlsError> {
    let pem_error = |detail: String| TlsError::Pem { path: path.to_owned(), what, detail };
    let items =
        T::pem_slice_iter(bytes).collect::<Result<Vec<_>, _>>().map_err(|error| pem_error(error.to_string()))?;
    if items.is_empty() {
        return Err(pem_error("none found".to_owned()));
    }
    Ok(items)
}

fn private_key(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|error| TlsError::Pem {
        path: path.to_owned(),
        what: "private key",
        detail: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, Issuer, KeyIdMethod, KeyPair,
        RevokedCertParams, SerialNumber, date_time_ymd,
    };

    use tower_service::Service as _;

    use super::*;

    struct Folder(PathBuf);

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A certificate for `localhost` issued by `issuer`, and its key, in PEM.
    fn issue(issuer: &Issuer<'static, KeyPair>) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let certificate = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&key, issuer)
            .expect("certificate");
        (certificate.pem(), key.serialize_pem())
    }

    /// A CA, a server certificate it issued and a CRL revoking serial 7, written to a fresh folder;
    /// and the CA, to issue more.
    fn files(name: &str) -> (Folder, TlsFiles, Issuer<'static, KeyPair>) {
        let folder = std::env::temp_dir().join(format!("motcua-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("a temporary folder");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let (server_cert, server_key) = issue(&issuer);
        let crl = CertificateRevocationListParams {
            this_update: date_time_ymd(2025, 1, 1),
            next_update: date_time_ymd(2099, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: vec![RevokedCertParams {
                serial_number: SerialNumber::from(7u64),
                revocation_time: date_time_ymd(2025, 1, 1),
                reason_code: None,
                invalidity_date: None,
            }],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .expect("CRL");
        let write = |file: &str, contents: String| {
            let path = folder.join(file);
            std::fs::write(&path, contents).expect("write");
            path
        };
        let files = TlsFiles {
            cert: write("tls.crt", server_cert),
            key: write("tls.key", server_key),
            client_ca: write("ca.crt", ca.pem()),
            client_crl: Some(write("ca.crl", crl.pem().expect("CRL PEM"))),
        };
        (Folder(folder), files, issuer)
    }

    #[test]
    fn certificate_key_ca_and_crl_make_both_configurations() {
        let (_folder, files, _) = files("valid");
        let contents = Contents::read(&files).expect("readable");
        let server = server_config(&files, &contents).expect("a server configuration");
        assert_eq!(server.alpn_protocols, vec![b"h2".to_vec()]);
        client_config(&files, &contents).expect("a client configuration");
    }

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

    #[test]
    fn a_changed_file_that_does_not_parse_leaves_the_configuration_in_force_until_a_valid_one() {
        let (_folder, files, _) = files("reload");
        let (reloading, mut seen) = Reloading::load(&files, server_config).expect("valid files");
        assert!(!reloading.check(&files, &mut seen, server_config).expect("readable"), "nothing changed");
        let before = reloading.get();
        let valid_cert = std::fs::read(&files.cert).expect("read");
        std::fs::write(&files.cert, "not a certificate").expect("write");
        assert!(matches!(reloading.check(&files, &mut seen, server_config), Err(TlsError::Pem { .. })));
        assert!(Arc::ptr_eq(&before, &reloading.get()), "the broken file is not applied");
        assert!(!reloading.check(&files, &mut seen, server_config).expect("readable"), "reported once");
        std::fs::remove_file(&files.cert).expect("remove");
        assert!(matches!(reloading.check(&files, &mut seen, server_config), Err(TlsError::Read { .. })));
        std::fs::write(&files.cert, valid_cert).expect("write");
        assert!(reloading.check(&files, &mut seen, server_config).expect("valid again"));
        assert!(!Arc::ptr_eq(&before, &reloading.get()), "the valid files are in force");
    }

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
