//! Whom the chassis trusts: the CA roots that callers' and peers' certificates must chain to, and the
//! certificate revocation list that the server checks every client certificate against.

use std::{path::Path, sync::Arc};

use tokio_rustls::rustls::{
    RootCertStore,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, CertificateRevocationListDer},
    server::{WebPkiClientVerifier, danger::ClientCertVerifier},
};

use super::{TlsError, pem::pem_items, reload::Contents};
use crate::config::TlsFiles;

/// The CA certificates in `bytes` (read from `path`).
pub(super) fn roots(path: &Path, bytes: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in pem_items::<CertificateDer<'static>>(path, bytes, "CA certificate")? {
        roots.add(certificate).map_err(|error| TlsError::Invalid(format!("{}: {error}", path.display())))?;
    }
    Ok(roots)
}

/// The verifier of client certificates: chained to the client CA, and not revoked by the CRL when one
/// is configured (an empty CRL file is an error, not revocation switched off).
pub(super) fn client_verifier(
    files: &TlsFiles,
    contents: &Contents,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&files.client_ca, &contents.client_ca)?), provider);
    if let (Some(path), Some(bytes)) = (&files.client_crl, &contents.client_crl) {
        verifier = verifier.with_crls(pem_items::<CertificateRevocationListDer<'static>>(path, bytes, "CRL")?);
    }
    verifier.build().map_err(|error| TlsError::Invalid(format!("client CA or CRL: {error}")))
}
