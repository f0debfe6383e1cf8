//! The transparency log as the service runs it: its Ed25519 key (made once, kept encrypted in the
//! database for every replica), checkpoints signed from the stored leaves, and the integrity check
//! that makes any change to a logged leaf visible at the next checkpoint.

use std::sync::{Arc, Mutex};

use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
};
use motcua_chassis::clock::Clock;
use rand_core::OsRng;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use crate::{
    domain::{checkpoint, merkle},
    keys::KeyEncryption,
    store::{
        self,
        entities::{checkpoint as checkpoint_row, log_key},
    },
};

/// Why a checkpoint was not issued.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The stored leaves no longer hash to a root the log signed: a leaf was changed or removed.
    #[error("the log's stored leaves no longer match checkpoint {tree_size}: {detail}")]
    Inconsistent {
        /// The tree size of the checkpoint that no longer matches.
        tree_size: i64,
        /// What differs.
        detail: String,
    },
}

/// The log of one service instance.
pub struct TransparencyLog {
    db: DatabaseConnection,
    origin: String,
    key: SigningKey,
    woken: Arc<Notify>,
    inconsistency: Mutex<Option<String>>,
    /// The time checkpoints are stamped with.
    clock: Clock,
}

impl TransparencyLog {
    /// Opens the log in `db`, making its key on first start. The origin must be a valid signed-note
    /// key name, or no client could read the checkpoints.
    pub async fn open(
        db: DatabaseConnection,
        origin: String,
        encryption: &KeyEncryption,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            checkpoint::is_valid_key_name(&origin),
            "the log origin {origin:?} must be non-empty, without spaces or '+' (c2sp.org/tlog-checkpoint)"
        );
        let row = store::log::log_key(&db, || {
            let key = SigningKey::generate(&mut OsRng);
            let der = key.to_pkcs8_der().map_err(|error| DbErr::Custom(error.to_string()))?;
            let encrypted_key = encryption.encrypt(der.as_bytes()).map_err(|error| DbErr::Custom(error.to_string()))?;
            Ok(log_key::Model { id: 1, encrypted_key, public_key: key.verifying_key().as_bytes().to_vec() })
        })
        .await?;
        let der = encryption.decrypt(&row.encrypted_key)?;
        let key =
            SigningKey::from_pkcs8_der(der.as_bytes()).map_err(|error| anyhow::anyhow!("the log key: {error}"))?;
        Ok(Self { db, origin, key, woken: Arc::new(Notify::new()), inconsistency: Mutex::new(None), clock })
    }

    /// The origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key of the log, in the signed-note format.
    pub fn verifier_key(&self) -> String {
        checkpoint::verifier_key(&self.origin, &self.key.verifying_key())
    }

    /// What the checkpointer waits on between passes.
    pub fn woken(&self) -> Arc<Notify> {
        self.woken.clone()
    }

    /// Asks for a checkpoint now: a leaf was just committed.
    pub fn wake(&self) {
        self.woken.notify_one();
    }

    /// The inconsistency found, once the stored leaves stopped matching a signed checkpoint.
    pub fn inconsistency(&self) -> Option<String> {
        self.inconsistency.lock().ok().and_then(|found| found.clone())
    }

    /// Issues a checkpoint of the committed leaves when there are new ones (or none was ever issued),
    /// after checking that every stored leaf still hashes to the latest signed root.
    pub async fn checkpoint_now(&self) -> Result<Option<checkpoint_row::Model>, CheckpointError> {
        let tree_size = store::log::tree_size(&self.db).await?;
        let latest = store::log::latest_checkpoint(&self.db).await?;
        if latest.as_ref().is_some_and(|latest| latest.tree_size >= tree_size) {
            return Ok(None);
        }
        let leaves = store::log::leaves(&self.db, 0, tree_size).await?;
        let mut hashes = Vec::with_capacity(leaves.len());
        for (expected_index, (index, data)) in leaves.iter().enumerate() {
            if *index != expected_index as i64 {
                return Err(self.inconsistent(
                    latest.as_ref().map_or(0, |latest| latest.tree_size),
                    format!("leaf {expected_index} is missing"),
                ));
            }
            // Rehashed from the bytes: a stored hash changed along with its leaf proves nothing.
            hashes.push(merkle::leaf_hash(data));
        }
        if hashes.len() as i64 != tree_size {
            return Err(self.inconsistent(tree_size, "leaves are missing".to_owned()));
        }
        if let Some(latest) = &latest {
            let earlier_root = merkle::root(&hashes[..latest.tree_size as usize]);
            if earlier_root.as_slice() != latest.root_hash.as_slice() {
                return Err(
                    self.inconsistent(latest.tree_size, "a leaf covered by it was changed or removed".to_owned())
                );
            }
        }
        let root_hash = merkle::root(&hashes);
        let body = checkpoint::body(&self.origin, tree_size as u64, &root_hash);
        let note = checkpoint::sign(&self.origin, &self.key, &body);
        let row = checkpoint_row::Model { tree_size, root_hash: root_hash.to_vec(), note, issued_at: self.clock.now() };
        store::log::store_checkpoint(&self.db, row.clone()).await?;
        Ok(Some(row))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `tree_size` leaves (RFC 9162
    /// section 2.1.3.1), from the leaf's sibling up; `None` when the leaf is outside that tree.
    pub async fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Option<Vec<merkle::Hash>>, DbErr> {
        let hashes = store::log::leaf_hashes(&self.db, 0, tree_size as i64).await?;
        if (hashes.len() as u64) < tree_size {
            return Ok(None);
        }
        Ok(merkle::inclusion_proof(index as usize, &hashes))
    }

    /// The consistency proof between the trees of the first `first_size` and `second_size` leaves
    /// (RFC 9162 section 2.1.4.1); `None` unless 0 < first_size <= second_size <= the stored leaves.
    pub async fn consistency_proof(
        &self,
        first_size: u64,
        second_size: u64,
    ) -> Result<Option<Vec<merkle::Hash>>, DbErr> {
        let hashes = store::log::leaf_hashes(&self.db, 0, second_size as i64).await?;
        if (hashes.len() as u64) < second_size {
            return Ok(None);
        }
        Ok(merkle::consistency_proof(first_size as usize, &hashes))
    }

    fn inconsistent(&self, tree_size: i64, detail: String) -> CheckpointError {
        let error = CheckpointError::Inconsistent { tree_size, detail };
        tracing::error!(%error, "TRANSPARENCY LOG INCONSISTENT: checkpoints stopped");
        if let Ok(mut found) = self.inconsistency.lock() {
            *found = Some(error.to_string());
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_origin_that_checkpoints_could_not_carry_is_refused_before_the_database_is_touched() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.expect("an in-memory database");
        for origin in ["", "motcua example/log", "motcua.example/log+1"] {
            let opened =
                TransparencyLog::open(db.clone(), origin.to_owned(), &KeyEncryption::new("secret"), Clock::system())
                    .await;
            let error = opened.err().expect("refused").to_string();
            assert!(error.contains("log origin"), "{origin:?}: {error}");
        }
    }
}
