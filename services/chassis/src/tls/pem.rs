//! Reading the PEM files: certificates, CRLs and the private key, each error naming its file.

use std::path::Path;

use tokio_rustls::rustls::pki_types::{PrivateKeyDer, pem::PemObject};

use super::TlsError;

/// Every PEM item of type `T` in `bytes`, at least one.
pub(super) fn pem_items<T: PemObject>(path: &Path, bytes: &[u8], what: &'static str) -> Result<Vec<T>, TlsError> {
    let pem_error = |detail: String| TlsError::Pem { path: path.to_owned(), what, detail };
    let items =
        T::pem_slice_iter(bytes).collect::<Result<Vec<_>, _>>().map_err(|error| pem_error(error.to_string()))?;
    if items.is_empty() {
        return Err(pem_error("none found".to_owned()));
    }
    Ok(items)
}

/// The private key in `bytes`.
pub(super) fn private_key(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|error| TlsError::Pem {
        path: path.to_owned(),
        what: "private key",
        detail: error.to_string(),
    })
}
