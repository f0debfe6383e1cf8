//! Private keys: made here or imported, used to sign, and kept at rest only as encrypted PKCS#8 (or in
//! a PKCS#11 token). A decrypted key lives in this process's memory only, never in the database, a log
//! or a response.

pub mod encryption;
pub mod import;
pub mod keyring;
pub mod pkcs11;
pub mod software;

pub use encryption::KeyEncryption;
pub use keyring::KeyRing;
pub use software::SoftwareKey;

/// A private key signing can use: in memory (decrypted from PKCS#8) or in a PKCS#11 token.
#[derive(Debug)]
pub enum HeldKey {
    /// In this process's memory.
    Software(SoftwareKey),
    /// In the token; only its handle is here.
    Token(pkcs11::TokenKey),
}

impl HeldKey {
    /// The key's algorithm.
    pub fn algorithm(&self) -> crate::domain::algorithms::KeyAlgorithm {
        match self {
            Self::Software(key) => key.algorithm(),
            Self::Token(_) => crate::domain::algorithms::KeyAlgorithm::EcdsaP256,
        }
    }

    /// The public key, as a certificate carries it.
    pub fn public_key_info(&self) -> Result<spki::SubjectPublicKeyInfoOwned, KeyError> {
        match self {
            Self::Software(key) => key.public_key_info(),
            Self::Token(key) => Ok(key.public_key_info()),
        }
    }

    /// The signature of `message` (hashed with SHA-256), as X.509 and CMS carry it.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Software(key) => key.sign(message),
            Self::Token(key) => key.sign(message),
        }
    }
}

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key's bytes are not a key signing can use.
    #[error("unreadable key: {0}")]
    Unreadable(String),
    /// The encrypted key does not open with the configured secret.
    #[error("the key does not decrypt with the configured key-encryption secret")]
    WrongSecret,
    /// The signing operation failed.
    #[error("signing failed: {0}")]
    Signing(String),
}
