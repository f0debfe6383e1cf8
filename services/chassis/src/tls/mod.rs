//! Mutual TLS whose files are re-read while the service runs: the certificate, key, client CA and
//! client revocation lists are checked every `MOTCUA_TLS_RELOAD_INTERVAL_MS`, and a changed set that
//! is valid becomes the configuration of every new connection, served and dialled, without a restart.
//! A set that does not parse (or a key that does not match its certificate) is logged and the
//! configuration in force stays. Connections already open keep the configuration they were made with.
//!
//! The whole rustls configuration is rebuilt from the files rather than a certificate resolver and a
//! verifier reloaded apart: one rebuild keeps the certificate, key, CA and CRL that were valid together.
//!
//! `server` accepts and handshakes callers, `client` dials peers, `reload` re-reads the files and
//! swaps the configuration, `trust` holds the CA roots and the revocation list, `pem` parses the files.

mod client;
mod pem;
mod reload;
mod server;
mod trust;

#[cfg(test)]
mod fixtures;

use std::{io, path::PathBuf, sync::Arc};

use tokio_rustls::rustls::crypto::{CryptoProvider, ring};

pub use self::{
    client::{ClientTls, PeerConnector},
    server::ServerTls,
};

/// gRPC is HTTP/2 only.
const ALPN_H2: &[u8] = b"h2";

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

/// The ring provider, as tonic's own TLS uses.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::{client::client_config, fixtures::files, reload::Contents, server::server_config};

    #[test]
    fn certificate_key_ca_and_crl_make_both_configurations() {
        let (_folder, files, _) = files("valid");
        let contents = Contents::read(&files).expect("readable");
        let server = server_config(&files, &contents).expect("a server configuration");
        assert_eq!(server.alpn_protocols, vec![b"h2".to_vec()]);
        client_config(&files, &contents).expect("a client configuration");
    }
}
