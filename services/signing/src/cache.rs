//! Certificate chains kept in memory, bounded: what a signing act needs of its certificate that never
//! changes (the parsed certificate, the chain above it, its PEM and the hash it is stored under), and
//! the PEM of stored chains by hash for reading records. A certificate's id is the SHA-256 of its DER
//! and an authority's certificate never changes, so an entry is never stale. Revocation is not cached:
//! the signing path reads the certificate's row on every act and checks it again in the transaction
//! that appends the act's leaf, so a revocation made by any replica refuses the next act.
//!
//! The certificates of a holder (an officer, a branch's seal) are kept for [`HOLDER_TTL`], so that a
//! signing act reads no row before its batch: a certificate revoked meanwhile is refused by the batch,
//! which checks revocation in its transaction; a certificate issued, imported or revoked on this
//! replica clears them, and one issued on another replica is seen within [`HOLDER_TTL`].

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::{
    domain::certificates,
    store::{entities::certificate, pki},
};

/// How many certificates and chains are kept, each: a deployment has a few per officer.
pub const CAPACITY: usize = 4096;

/// A certificate's chain, stored in `certificate_chains` and ready to go into a CMS signature.
pub struct CachedChain {
    /// The certificate itself, parsed.
    pub certificate: Certificate,
    /// The certificates a CMS signature carries: this one, then each authority's up to the root.
    pub carried: Vec<Certificate>,
    /// The chain in PEM, as a signature record answers it.
    pub chain_pem: Arc<str>,
    /// The SHA-256 of `chain_pem`: the key of its `certificate_chains` row.
    pub chain_sha256: [u8; 32],
}

/// The chains of certificates by certificate id, and chains' PEM by hash.
#[derive(Default)]
pub struct ChainCache {
    by_certificate: Bounded<String, Arc<CachedChain>>,
    by_hash: Bounded<Vec<u8>, Arc<str>>,
}

impl ChainCache {
    /// The chain of `row`, stored once in `certificate_chains` on first use.
    pub async fn chain_of(
        &self,
        connection: &impl ConnectionTrait,
        row: &certificate::Model,
    ) -> Result<Arc<CachedChain>, DbErr> {
        if let Some(chain) = self.by_certificate.get(&row.certificate_id) {
            return Ok(chain);
        }
        let rows = pki::chain(connection, row.clone()).await?;
        let ders: Vec<Vec<u8>> = rows.iter().map(|row| row.certificate_der.clone()).collect();
        let unreadable = |error: der::Error| DbErr::Custom(format!("a stored certificate is not DER: {error}"));
        let carried = ders
            .iter()
            .map(|der| <Certificate as der::Decode>::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        let certificate = <Certificate as der::Decode>::from_der(&row.certificate_der).map_err(unreadable)?;
        let chain_pem: Arc<str> = certificates::chain_pem(&ders).into();
        let chain_sha256: [u8; 32] = Sha256::digest(chain_pem.as_bytes()).into();
        pki::store_chain(connection, &chain_sha256, &chain_pem).await?;
        let chain = Arc::new(CachedChain { certificate, carried, chain_pem: chain_pem.clone(), chain_sha256 });
        self.by_hash.insert(chain_sha256.to_vec(), chain_pem);
        self.by_certificate.insert(row.certificate_id.clone(), chain.clone());
        Ok(chain)
    }

    /// The PEM of the stored chains with these hashes, by hash; a hash not stored is left out.
    pub async fn chains_pem(
        &self,
        connection: &impl ConnectionTrait,
        hashes: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<HashMap<Vec<u8>, Arc<str>>, DbErr> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for hash in hashes {
            match self.by_hash.get(&hash) {
                Some(pem) => {
                    found.insert(hash, pem);
                }
                None if !missing.contains(&hash) => missing.push(hash),
                None => {}
            }
        }
        for (hash, pem) in pki::chains(connection, missing).await? {
            let pem: Arc<str> = pem.into();
            self.by_hash.insert(hash.clone(), pem.clone());
            found.insert(hash, pem);
        }
        Ok(found)
    }
}

/// How long a holder's certificates are kept.
pub const HOLDER_TTL: Duration = Duration::from_secs(1);

/// A holder's certificates, newest first, and when they were read.
type HeldRows = (Instant, Arc<Vec<certificate::Model>>);

/// The certificates of holders by holder id and subject kind.
#[derive(Default)]
pub struct HolderCache {
    rows: Bounded<(String, i16), HeldRows>,
}

impl HolderCache {
    /// The certificates of `holder_id` of `subject_kind`, newest first, as read at most
    /// [`HOLDER_TTL`] ago.
    pub async fn certificates_of(
        &self,
        connection: &impl ConnectionTrait,
        holder_id: &str,
        subject_kind: i16,
    ) -> Result<Arc<Vec<certificate::Model>>, DbErr> {
        let key = (holder_id.to_owned(), subject_kind);
        if let Some((read_at, rows)) = self.rows.get(&key)
            && read_at.elapsed() < HOLDER_TTL
        {
            return Ok(rows);
        }
        let read_at = Instant::now();
        let rows = Arc::new(pki::certificates_of_holder(connection, holder_id, subject_kind).await?);
        self.rows.insert(key, (read_at, rows.clone()));
        Ok(rows)
    }

    /// Forgets every holder's certificates, after this replica changed some.
    pub fn clear(&self) {
        self.rows.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}

/// A map that holds at most [`CAPACITY`] entries: when full, it starts again empty, which costs a
/// few reads from the database and keeps memory bounded without bookkeeping on every hit.
struct Bounded<K, V>(Mutex<HashMap<K, V>>);

impl<K, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key).cloned()
    }

    fn insert(&self, key: K, value: V) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, value);
    }
}
