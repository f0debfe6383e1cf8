//! Keys held in memory: ECDSA P-256 and RSA-2048 RSASSA-PSS, both signing through `ring` (constant-time
//! and about ten times faster at P-256 than RustCrypto's `p256`, which reads, writes and generates
//! the keys; the `rsa` crate only generates RSA keys).

use der::Decode;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::OsRng;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use spki::SubjectPublicKeyInfoOwned;

use super::KeyError;
use crate::domain::algorithms::{KeyAlgorithm, OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION};

/// A private key in memory, able to sign.
pub enum SoftwareKey {
    /// ECDSA P-256: the key as read, and the same key as `ring` signs with it.
    Ecdsa(p256::ecdsa::SigningKey, Box<ring::signature::EcdsaKeyPair>),
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
            OID_EC_PUBLIC_KEY => {
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(unreadable)?;
                // From the scalar and the point, not the PKCS#8: ring requires the public key inside
                // it, which an imported key may leave out.
                let key_pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &key.to_bytes(),
                    key.verifying_key().to_encoded_point(false).as_bytes(),
                    &ring::rand::SystemRandom::new(),
                )
                .map_err(unreadable)?;
                Ok(Self::Ecdsa(key, Box::new(key_pair)))
            }
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
            Self::Ecdsa(..) => KeyAlgorithm::EcdsaP256,
            Self::Rsa(_) => KeyAlgorithm::Rsa2048Pss,
        }
    }

    /// The public key, as a certificate carries it.
    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let der = match self {
            Self::Ecdsa(key, _) => key.verifying_key().to_public_key_der().map_err(unreadable)?.into_vec(),
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
            Self::Ecdsa(_, key_pair) => {
                let signature = key_pair
                    .sign(&ring::rand::SystemRandom::new(), message)
                    .map_err(|_| KeyError::Signing("ECDSA signing failed".to_owned()))?;
                Ok(signature.as_ref().to_vec())
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
