//! Keys held in memory: ECDSA P-256 (RustCrypto `p256`, deterministic RFC 6979 nonces) and RSA-2048
//! signing RSASSA-PSS through `ring`, which is constant-time (the `rsa` crate only generates keys).

use der::Decode;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::OsRng;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use spki::SubjectPublicKeyInfoOwned;

use super::KeyError;
use crate::domain::algorithms::{KeyAlgorithm, OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION};

/// A private key in memory, able to sign.
pub enum SoftwareKey {
    /// ECDSA P-256.
    Ecdsa(p256::ecdsa::SigningKey),
    /// RSA-2048 for RSASSA-PSS.
    Rsa(ring::signature::RsaKeyPair),
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "SoftwareKey({:?})", self.algorithm())
    }
}

fn unreadable(error: impl std::fmt::Display) -> KeyError {
    KeyError::Unreadable(error.to_string())
}

impl SoftwareKey {
    /// A new key, and its PKCS#8 PrivateKeyInfo DER to encrypt and store.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<(Self, pkcs8::SecretDocument), KeyError> {
        let der = match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                p256::ecdsa::SigningKey::random(&mut OsRng).to_pkcs8_der().map_err(unreadable)?
            }
            KeyAlgorithm::Rsa2048Pss => {
                let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).map_err(unreadable)?;
                rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key).map_err(unreadable)?
            }
        };
        Ok((Self::from_pkcs8_der(der.as_bytes())?, der))
    }

    /// The key of a PKCS#8 PrivateKeyInfo DER (P-256 or RSA).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(unreadable)?;
        match info.algorithm.oid {
            OID_EC_PUBLIC_KEY => Ok(Self::Ecdsa(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(unreadable)?)),
            OID_RSA_ENCRYPTION => {
                let key_pair = ring::signature::RsaKeyPair::from_pkcs8(der).map_err(unreadable)?;
                if key_pair.public().modulus_len() * 8 < 2048 {
                    return Err(KeyError::Unreadable("an RSA key must have at least 2048 bits".to_owned()));
                }
                Ok(Self::Rsa(key_pair))
            }
            other => Err(KeyError::Unreadable(format!("unsupported key algorithm {other}"))),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Self::Ecdsa(_) => KeyAlgorithm::EcdsaP256,
            Self::Rsa(_) => KeyAlgorithm::Rsa2048Pss,
        }
    }

    /// The public key, as a certificate carries it.
    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let der = match self {
            Self::Ecdsa(key) => key.verifying_key().to_public_key_der().map_err(unreadable)?.into_vec(),
            Self::Rsa(key_pair) => {
                let public = rsa::RsaPublicKey::from_pkcs1_der(key_pair.public().as_ref());
                public.map_err(unreadable)?.to_public_key_der().map_err(unreadable)?.into_vec()
            }
        };
        SubjectPublicKeyInfoOwned::from_der(&der).map_err(unreadable)
    }

    /// The signature of `message` (hashed here with SHA-256), as X.509 and CMS carry it.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Ecdsa(key) => {
                use p256::ecdsa::signature::Signer;
                let signature: p256::ecdsa::Signature = key.sign(message);
                Ok(signature.to_der().as_bytes().to_vec())
            }
            Self::Rsa(key_pair) => {
                let mut signature = vec![0; key_pair.public().modulus_len()];
                key_pair
                    .sign(&ring::signature::RSA_PSS_SHA256, &ring::rand::SystemRandom::new(), message, &mut signature)
                    .map_err(|_| KeyError::Signing("RSA-PSS signing failed".to_owned()))?;
                Ok(signature)
            }
        }
    }
}
