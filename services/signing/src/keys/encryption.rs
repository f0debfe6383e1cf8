//! Keys at rest: PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) under the
//! key-encryption secret of the configuration.

use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument, pkcs5::pbes2};
use rand_core::{OsRng, RngCore};

use super::KeyError;

/// PBKDF2 iterations: the secret is a long random value, so this guards a weak one without making
/// start-up slow (keys are decrypted once per process and kept in memory).
const PBKDF2_ITERATIONS: u32 = 100_000;

/// The key-encryption secret, and what it encrypts and decrypts.
#[derive(Clone)]
pub struct KeyEncryption {
    secret: String,
}

impl std::fmt::Debug for KeyEncryption {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("KeyEncryption(<secret>)")
    }
}

impl KeyEncryption {
    /// Encryption under `secret`.
    pub fn new(secret: impl Into<String>) -> Self {
        Self { secret: secret.into() }
    }

    /// The EncryptedPrivateKeyInfo DER of a PKCS#8 PrivateKeyInfo DER.
    pub fn encrypt(&self, private_key_info_der: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let parameters = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|error| KeyError::Unreadable(error.to_string()))?;
        let info =
            PrivateKeyInfo::try_from(private_key_info_der).map_err(|error| KeyError::Unreadable(error.to_string()))?;
        let encrypted = info
            .encrypt_with_params(parameters, self.secret.as_bytes())
            .map_err(|error| KeyError::Unreadable(error.to_string()))?;
        Ok(encrypted.as_bytes().to_vec())
    }

    /// The PKCS#8 PrivateKeyInfo DER inside an EncryptedPrivateKeyInfo DER.
    pub fn decrypt(&self, encrypted_der: &[u8]) -> Result<SecretDocument, KeyError> {
        let info = EncryptedPrivateKeyInfo::try_from(encrypted_der)
            .map_err(|error| KeyError::Unreadable(error.to_string()))?;
        info.decrypt(self.secret.as_bytes()).map_err(|_| KeyError::WrongSecret)
    }
}
