//! Reading a certificate chain and its private key from an outside CA's files: PKCS#12 (`.p12`,
//! `.pfx`, as OpenSSL and Windows write them) or PEM (certificates, and a PKCS#8 key in clear or
//! encrypted), checking that the key belongs to the first certificate.

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::SoftwareKey;

/// What an import brings.
pub enum KeyMaterialInput<'a> {
    /// A PKCS#12 file and its password.
    Pkcs12 {
        /// The file's bytes.
        data: &'a [u8],
        /// Its password.
        password: &'a str,
    },
    /// PEM text.
    Pem {
        /// Certificate blocks, the certificate first.
        certificate_chain_pem: &'a str,
        /// A `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` block, or nothing.
        private_key_pem: &'a str,
        /// The password of an encrypted key.
        private_key_password: &'a str,
    },
}

/// A certificate chain, the certificate first, with the certificate's key when given.
pub struct ImportedMaterial {
    /// The chain.
    pub chain: Vec<Certificate>,
    /// The certificate's private key, and its PKCS#8 PrivateKeyInfo DER to encrypt and store.
    pub key: Option<(SoftwareKey, pkcs8::SecretDocument)>,
}

/// Why material could not be imported; the text never quotes the material.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub &'static str);

/// Reads `input`.
pub fn read(input: KeyMaterialInput<'_>) -> Result<ImportedMaterial, ImportError> {
    let (chain, key_der) = match input {
        KeyMaterialInput::Pkcs12 { data, password } => {
            let store = p12_keystore::KeyStore::from_pkcs12(data, password)
                .map_err(|_| ImportError("the PKCS#12 file could not be read with this password"))?;
            let (_, key_chain) = store
                .private_key_chain()
                .ok_or(ImportError("the PKCS#12 file holds no private key and certificate"))?;
            let mut chain = Vec::new();
            for certificate in key_chain.chain() {
                chain.push(
                    Certificate::from_der(certificate.as_der())
                        .map_err(|_| ImportError("a certificate does not parse"))?,
                );
            }
            (
                chain,
                Some(
                    pkcs8::SecretDocument::try_from(key_chain.key())
                        .map_err(|_| ImportError("the key does not parse"))?,
                ),
            )
        }
        KeyMaterialInput::Pem { certificate_chain_pem, private_key_pem, private_key_password } => {
            // x509-cert's `load_pem_chain` subtracts from the length of a chain that is empty once its
            // trailing newlines are stripped (an overflow panic in debug builds): nothing is no chain.
            if certificate_chain_pem.trim().is_empty() {
                return Err(ImportError("no certificate was given"));
            }
            let chain = Certificate::load_pem_chain(certificate_chain_pem.as_bytes())
                .map_err(|_| ImportError("the certificate chain is not PEM certificates"))?;
            let key = if private_key_pem.trim().is_empty() {
                None
            } else {
                let (label, der) = der::pem::decode_vec(private_key_pem.trim().as_bytes())
                    .map_err(|_| ImportError("the private key is not PEM"))?;
                let document = match label {
                    "PRIVATE KEY" => pkcs8::SecretDocument::try_from(der.as_slice()).ok(),
                    "ENCRYPTED PRIVATE KEY" => pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                        .map_err(|_| ImportError("the encrypted private key does not parse"))?
                        .decrypt(private_key_password)
                        .ok(),
                    _ => {
                        return Err(ImportError(
                            "the private key must be PKCS#8: BEGIN PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY",
                        ));
                    }
                };
                Some(document.ok_or(ImportError("the private key could not be read with this password"))?)
            };
            (chain, key)
        }
    };
    let first = chain.first().ok_or(ImportError("no certificate was given"))?;
    let key = match key_der {
        None => None,
        Some(der) => {
            let key = SoftwareKey::from_pkcs8_der(der.as_bytes())
                .map_err(|_| ImportError("the key is not ECDSA P-256 or RSA of at least 2048 bits"))?;
            let public_key = key.public_key_info().map_err(|_| ImportError("the key's public half cannot be read"))?;
            let matches = public_key.to_der().ok() == first.tbs_certificate.subject_public_key_info.to_der().ok();
            if !matches {
                return Err(ImportError("the private key does not belong to the first certificate"));
            }
            Some((key, der))
        }
    };
    Ok(ImportedMaterial { chain, key })
}
