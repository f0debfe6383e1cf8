//! Keys in a PKCS#11 token (a hardware security module; SoftHSM2 in tests): ECDSA P-256 key pairs
//! generated inside the token as sensitive and not extractable, found again by label, and used to sign
//! through the token's CKM_ECDSA over the SHA-256 of the message.

use std::sync::{Arc, Mutex};

use cryptoki::{
    context::{CInitializeArgs, Pkcs11},
    mechanism::Mechanism,
    object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    types::AuthPin,
};
use der::{Decode, asn1::OctetString};
use p256::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;

use super::KeyError;

/// The DER of the named curve prime256v1, as CKA_EC_PARAMS wants it.
const P256_PARAMETERS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn token_error(error: impl std::fmt::Display) -> KeyError {
    KeyError::Signing(format!("PKCS#11: {error}"))
}

/// A logged-in session on the configured token. PKCS#11 sessions are not for concurrent use, so
/// signing operations take turns on it.
pub struct Token {
    session: Mutex<Session>,
    _context: Pkcs11,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Token")
    }
}

impl Token {
    /// Loads `module`, finds the token labelled `token_label` and logs in as its user with `pin`.
    pub fn open(module: &str, token_label: &str, pin: &str) -> Result<Self, KeyError> {
        let context = Pkcs11::new(module).map_err(token_error)?;
        context.initialize(CInitializeArgs::OsThreads).map_err(token_error)?;
        let mut found = None;
        for slot in context.get_slots_with_token().map_err(token_error)? {
            if context.get_token_info(slot).map_err(token_error)?.label().trim_end() == token_label {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| token_error(format!("no token labelled {token_label:?}")))?;
        let session = context.open_rw_session(slot).map_err(token_error)?;
        session.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))).map_err(token_error)?;
        Ok(Self { session: Mutex::new(session), _context: context })
    }

    fn session(&self) -> Result<std::sync::MutexGuard<'_, Session>, KeyError> {
        self.session.lock().map_err(|_| token_error("the session's lock was poisoned"))
    }

    /// A new ECDSA P-256 key pair in the token, labelled `label`.
    pub fn generate_ecdsa(self: &Arc<Self>, label: &str) -> Result<TokenKey, KeyError> {
        let public_template = [
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::EcParams(P256_PARAMETERS.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let (public, private) = self
            .session()?
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public_template, &private_template)
            .map_err(token_error)?;
        let public_key = self.public_key_info(public)?;
        Ok(TokenKey { token: self.clone(), private, public_key })
    }

    /// The key pair labelled `label`.
    pub fn find(self: &Arc<Self>, label: &str) -> Result<TokenKey, KeyError> {
        let find = |class: ObjectClass| -> Result<ObjectHandle, KeyError> {
            let template =
                [Attribute::Class(class), Attribute::KeyType(KeyType::EC), Attribute::Label(label.as_bytes().to_vec())];
            self.session()?
                .find_objects(&template)
                .map_err(token_error)?
                .into_iter()
                .next()
                .ok_or_else(|| token_error(format!("no key labelled {label:?} in the token")))
        };
        let private = find(ObjectClass::PRIVATE_KEY)?;
        let public_key = self.public_key_info(find(ObjectClass::PUBLIC_KEY)?)?;
        Ok(TokenKey { token: self.clone(), private, public_key })
    }

    fn public_key_info(&self, public: ObjectHandle) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let attributes = self.session()?.get_attributes(public, &[AttributeType::EcPoint]).map_err(token_error)?;
        let Some(Attribute::EcPoint(point)) = attributes.into_iter().next() else {
            return Err(token_error("the public key has no EC point"));
        };
        // CKA_EC_POINT is the DER OCTET STRING of the point; some tokens give the bare point.
        let point = OctetString::from_der(&point).map(|octets| octets.as_bytes().to_vec()).unwrap_or(point);
        let public_key = p256::PublicKey::from_sec1_bytes(&point).map_err(token_error)?;
        let der = public_key.to_public_key_der().map_err(token_error)?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(token_error)
    }
}

/// A key pair held in the token.
#[derive(Debug)]
pub struct TokenKey {
    token: Arc<Token>,
    private: ObjectHandle,
    public_key: SubjectPublicKeyInfoOwned,
}

impl TokenKey {
    /// The public key, as a certificate carries it.
    pub fn public_key_info(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    /// The DER ECDSA-Sig-Value over the SHA-256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let digest = Sha256::digest(message);
        let raw = self.token.session()?.sign(&Mechanism::Ecdsa, self.private, &digest).map_err(token_error)?;
        let signature = p256::ecdsa::Signature::from_slice(&raw).map_err(token_error)?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}
