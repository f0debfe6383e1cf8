//! The keys of the certificates signing holds, opened on first use and kept in this process's memory
//! (or as token handles), so that each signature costs one signing operation rather than a key
//! derivation or a token search.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::{HeldKey, KeyEncryption, KeyError, SoftwareKey, pkcs11::Token};
use crate::store::entities::certificate;

/// Open keys by certificate id.
#[derive(Debug)]
pub struct KeyRing {
    encryption: KeyEncryption,
    token: Option<Arc<Token>>,
    open: Mutex<HashMap<String, Arc<HeldKey>>>,
}

impl KeyRing {
    /// An empty ring that opens keys with `encryption`, and finds token keys in `token`.
    pub fn new(encryption: KeyEncryption, token: Option<Arc<Token>>) -> Self {
        Self { encryption, token, open: Mutex::new(HashMap::new()) }
    }

    /// The encryption of keys at rest.
    pub fn encryption(&self) -> &KeyEncryption {
        &self.encryption
    }

    /// The PKCS#11 token new keys are made in, when one is configured.
    pub fn token(&self) -> Option<&Arc<Token>> {
        self.token.as_ref()
    }

    /// The key of `certificate`, opened on first use; `None` when signing holds no key for it.
    pub fn key_of(&self, certificate: &certificate::Model) -> Result<Option<Arc<HeldKey>>, KeyError> {
        if let Some(key) = self.open.lock().map_err(|_| poisoned())?.get(&certificate.certificate_id) {
            return Ok(Some(key.clone()));
        }
        let key = match (&certificate.encrypted_key, &certificate.pkcs11_key_label) {
            (Some(encrypted), _) => {
                let der = self.encryption.decrypt(encrypted)?;
                HeldKey::Software(SoftwareKey::from_pkcs8_der(der.as_bytes())?)
            }
            (None, Some(label)) => {
                let token = self.token.as_ref().ok_or_else(|| {
                    KeyError::Signing("the key is in a PKCS#11 token, and no token is configured".to_owned())
                })?;
                HeldKey::Token(token.find(label)?)
            }
            (None, None) => return Ok(None),
        };
        let key = Arc::new(key);
        self.open.lock().map_err(|_| poisoned())?.insert(certificate.certificate_id.clone(), key.clone());
        Ok(Some(key))
    }

    /// Keeps a key just made, so its first use needs no decryption.
    pub fn remember(&self, certificate_id: &str, key: Arc<HeldKey>) {
        if let Ok(mut open) = self.open.lock() {
            open.insert(certificate_id.to_owned(), key);
        }
    }
}

fn poisoned() -> KeyError {
    KeyError::Signing("the key ring's lock was poisoned by a panic".to_owned())
}
