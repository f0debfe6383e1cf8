//! The two signature algorithms of Circular 15/2025/TT-BKHCN that signing offers, always with
//! SHA-256: ECDSA P-256 (the default) and RSA-2048 with RSASSA-PSS; their algorithm identifiers, and
//! verification of a signature with a certificate's public key.

use der::{Any, Decode, Encode, Sequence, asn1::Null, oid::ObjectIdentifier};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// id-ecPublicKey.
pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// ecdsa-with-SHA256.
pub const OID_ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// rsaEncryption.
pub const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-RSASSA-PSS.
pub const OID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// id-mgf1.
pub const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
/// id-sha256.
pub const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

motcua_chassis::coded_enum! {
    /// A key pair's algorithm; the numbers are the contract's and the stored ones.
    pub enum KeyAlgorithm {
        /// ECDSA on P-256 with SHA-256.
        EcdsaP256 = 1,
        /// RSA-2048, RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
        Rsa2048Pss = 2,
    }
}

/// RSASSA-PSS-params (RFC 4055), with SHA-256 everywhere.
#[derive(Sequence)]
struct PssParameters {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    hash_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    mask_generation: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    salt_length: u32,
}

impl KeyAlgorithm {
    /// The algorithm of a public key, when it is one signing offers.
    pub fn of_public_key(public_key: &SubjectPublicKeyInfoOwned) -> Option<Self> {
        match public_key.algorithm.oid {
            OID_EC_PUBLIC_KEY => Some(Self::EcdsaP256),
            OID_RSA_ENCRYPTION | OID_RSASSA_PSS => Some(Self::Rsa2048Pss),
            _ => None,
        }
    }

    /// The signature algorithm identifier of signatures by such a key.
    pub fn signature_algorithm(self) -> Result<AlgorithmIdentifierOwned, der::Error> {
        match self {
            Self::EcdsaP256 => Ok(AlgorithmIdentifierOwned { oid: OID_ECDSA_WITH_SHA256, parameters: None }),
            Self::Rsa2048Pss => {
                let sha256 = AlgorithmIdentifierOwned { oid: OID_SHA256, parameters: Some(Any::from(Null)) };
                let parameters = PssParameters {
                    hash_algorithm: sha256.clone(),
                    mask_generation: AlgorithmIdentifierOwned {
                        oid: OID_MGF1,
                        parameters: Some(Any::encode_from(&sha256)?),
                    },
                    salt_length: 32,
                };
                Ok(AlgorithmIdentifierOwned { oid: OID_RSASSA_PSS, parameters: Some(Any::encode_from(&parameters)?) })
            }
        }
    }
}

/// Whether `signature` (as carried in X.509 and CMS: DER ECDSA-Sig-Value, or the raw PSS block) is a
/// valid signature of `message` by `public_key` under `algorithm`.
pub fn verify(
    public_key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> bool {
    match (algorithm.oid, KeyAlgorithm::of_public_key(public_key)) {
        (OID_ECDSA_WITH_SHA256, Some(KeyAlgorithm::EcdsaP256)) => {
            use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};
            let Ok(key) = VerifyingKey::from_sec1_bytes(public_key.subject_public_key.raw_bytes()) else {
                return false;
            };
            let Ok(signature) = Signature::from_der(signature) else { return false };
            key.verify(message, &signature).is_ok()
        }
        (OID_RSASSA_PSS, Some(KeyAlgorithm::Rsa2048Pss)) => {
            // ring verifies PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: the parameters must say so.
            if !pss_parameters_are_sha256(algorithm) {
                return false;
            }
            let key = ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PSS_2048_8192_SHA256,
                public_key.subject_public_key.raw_bytes(),
            );
            key.verify(message, signature).is_ok()
        }
        _ => false,
    }
}

fn pss_parameters_are_sha256(algorithm: &AlgorithmIdentifierOwned) -> bool {
    let Some(parameters) = algorithm.parameters.as_ref().and_then(|any| any.to_der().ok()) else { return false };
    let Ok(parameters) = PssParameters::from_der(&parameters) else { return false };
    let mask_hash = parameters
        .mask_generation
        .parameters
        .as_ref()
        .and_then(|any| any.decode_as::<AlgorithmIdentifierOwned>().ok())
        .map(|hash| hash.oid);
    parameters.hash_algorithm.oid == OID_SHA256
        && parameters.mask_generation.oid == OID_MGF1
        && mask_hash == Some(OID_SHA256)
        && parameters.salt_length == 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_carry_no_parameters_and_pss_names_sha256_and_a_32_byte_salt() {
        let ecdsa = KeyAlgorithm::EcdsaP256.signature_algorithm().expect("encodes");
        assert!(ecdsa.parameters.is_none());
        let pss = KeyAlgorithm::Rsa2048Pss.signature_algorithm().expect("encodes");
        let parameters = PssParameters::from_der(&pss.parameters.expect("parameters").to_der().expect("der"))
            .expect("RSASSA-PSS-params");
        assert_eq!((parameters.hash_algorithm.oid, parameters.salt_length), (OID_SHA256, 32));
    }
}
