//! The transparency log as the service runs it: its Ed25519 key (made once, kept encrypted in the
//! database for every replica), integration of the committed leaves into the stored hash tiles with a
//! checkpoint signed from their root, the check that the tiles still give the last signed root, and
//! proofs and tiles read from a few stored tiles per level, whatever the log's size.

use std::sync::{Arc, Mutex};

use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey},
};
use motcua_chassis::{clock::Clock, db};
use rand_core::OsRng;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::Notify;

use crate::{
    domain::{
        checkpoint,
        merkle::{self, Fold, Hash},
        tiles::{self, TileKey, TilePath, TileSet},
    },
    keys::KeyEncryption,
    store::{
        self,
        entities::{checkpoint as checkpoint_row, log_key},
    },
};

/// The most leaves one integration takes: each holds the integration lock briefly, and a backlog (a
/// log that had leaves before it had tiles) is caught up in such steps.
pub const INTEGRATION_BATCH: u64 = 16_384;

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

    /// Integrates the committed leaves and signs a checkpoint of them when there are new ones (or
    /// none was ever issued), in batches of [`INTEGRATION_BATCH`]; the last checkpoint issued.
    /// Nothing once the log was found inconsistent.
    pub async fn checkpoint_now(&self) -> Result<Option<checkpoint_row::Model>, CheckpointError> {
        let mut issued = None;
        while self.inconsistency().is_none() {
            let integration = self.integrate(INTEGRATION_BATCH).await?;
            issued = integration.checkpoint.or(issued);
            if !integration.more {
                break;
            }
        }
        Ok(issued)
    }

    /// One integration: up to `max_leaves` leaves committed since the integrated size are hashed
    /// and appended to the tiles along the right edge, the tiles are checked to give the last signed
    /// root, and the new size and its checkpoint are stored, all in one transaction while holding the
    /// integration lock. The leaves of the right-edge level-0 tile are rehashed too, so a change to a
    /// recent leaf stops the next checkpoint; older ones are the auditor's.
    pub async fn integrate(&self, max_leaves: u64) -> Result<Integration, CheckpointError> {
        // A look without the lock first: most passes find nothing to do, and on SQLite the write
        // transaction they would begin holds back signing acts.
        let head = store::log::tree_size(&self.db).await?;
        let integrated = store::log::integrated_size(&self.db).await?;
        let latest = store::log::latest_checkpoint(&self.db).await?;
        if integrated == head && latest.is_some_and(|latest| latest.tree_size >= head) {
            return Ok(Integration { checkpoint: None, integrated_size: integrated, more: false });
        }
        let transaction = db::begin_write(&self.db).await?;
        match self.integrate_in(&transaction, max_leaves).await {
            Ok(integration) => {
                transaction.commit().await?;
                Ok(integration)
            }
            Err(Refusal::Database(error)) => Err(error.into()),
            Err(Refusal::Inconsistent { tree_size, detail }) => {
                transaction.rollback().await?;
                Err(self.flag_inconsistent(tree_size, detail).await)
            }
        }
    }

    async fn integrate_in(&self, transaction: &DatabaseTransaction, max_leaves: u64) -> Result<Integration, Refusal> {
        let integrated = store::log::integrated_size_for_update(transaction).await? as u64;
        let head = store::log::tree_size(transaction).await? as u64;
        let latest = store::log::latest_checkpoint(transaction).await?;
        let signed_size = latest.as_ref().map(|latest| latest.tree_size);
        let end = head.min(integrated + max_leaves);
        if end == integrated && signed_size.is_some_and(|size| size as u64 >= end) {
            return Ok(Integration { checkpoint: None, integrated_size: end as i64, more: false });
        }
        let refuse = |detail: String| Refusal::Inconsistent { tree_size: signed_size.unwrap_or(0), detail };
        let edge_start = integrated - integrated % tiles::TILE_WIDTH;
        let leaves = store::log::leaves(transaction, edge_start as i64, end as i64).await?;
        let hashes = rehash(&leaves, edge_start, end).map_err(refuse)?;
        drop(leaves);
        let kept = (integrated - edge_start) as usize;
        let mut set = TileSet::default();
        store::log::load_tiles(transaction, &tiles::right_edge(integrated), &mut set).await?;
        if kept > 0 {
            let stored = set.get(TileKey { level: 0, index: edge_start / tiles::TILE_WIDTH }).unwrap_or_default();
            if let Some(changed) = (0..kept).find(|offset| stored.get(*offset) != Some(&hashes[*offset])) {
                return Err(refuse(format!(
                    "leaf {} no longer hashes to its stored tile",
                    edge_start + changed as u64
                )));
            }
        }
        let written = set.integrate(integrated, &hashes[kept..]).map_err(|error| refuse(error.to_string()))?;
        if let Some(latest) = &latest
            && latest.tree_size as u64 <= end
        {
            let root = evaluate(transaction, &mut set, &[merkle::root_plan(latest.tree_size as u64)]).await?;
            if root.as_deref().and_then(<[Hash]>::first).map(Hash::as_slice) != Some(latest.root_hash.as_slice()) {
                return Err(refuse("the stored tiles no longer give its signed root".to_owned()));
            }
        }
        let root = evaluate(transaction, &mut set, &[merkle::root_plan(end)])
            .await?
            .and_then(|root| root.first().copied())
            .ok_or_else(|| refuse(format!("the stored tiles lack a hash of the tree of {end} leaves")))?;
        store::log::save_tiles(transaction, &set, &written).await?;
        store::log::set_integrated_size(transaction, end as i64).await?;
        let mut checkpoint = None;
        if signed_size.is_none_or(|size| (size as u64) < end) {
            let body = checkpoint::body(&self.origin, end, &root);
            let note = checkpoint::sign(&self.origin, &self.key, &body);
            let row = checkpoint_row::Model {
                tree_size: end as i64,
                root_hash: root.to_vec(),
                note,
                issued_at: self.clock.now(),
            };
            store::log::store_checkpoint(transaction, row.clone()).await?;
            checkpoint = Some(row);
        }
        Ok(Integration { checkpoint, integrated_size: end as i64, more: end < head })
    }

    /// The inclusion proof of leaf `index` in the tree of the first `tree_size` leaves (RFC 9162
    /// section 2.1.3.1), from the leaf's sibling up; `None` when the leaf is outside that tree or the
    /// tree is not integrated yet. Reads at most a few tiles per level.
    pub async fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Option<Vec<Hash>>, DbErr> {
        match merkle::inclusion_plan(index, tree_size) {
            Some(plan) if tree_size <= store::log::integrated_size(&self.db).await? as u64 => {
                self.proof(&plan).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The consistency proof between the trees of the first `first_size` and `second_size` leaves
    /// (RFC 9162 section 2.1.4.1); `None` unless 0 < first_size <= second_size <= the integrated
    /// leaves. Reads at most a few tiles per level.
    pub async fn consistency_proof(&self, first_size: u64, second_size: u64) -> Result<Option<Vec<Hash>>, DbErr> {
        match merkle::consistency_plan(first_size, second_size) {
            Some(plan) if second_size <= store::log::integrated_size(&self.db).await? as u64 => {
                self.proof(&plan).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    async fn proof(&self, plan: &[Fold]) -> Result<Vec<Hash>, DbErr> {
        evaluate(&self.db, &mut TileSet::default(), plan)
            .await?
            .ok_or_else(|| DbErr::Custom("the stored tiles lack a hash the proof needs".to_owned()))
    }

    /// The bytes of the C2SP tlog-tiles `path` in the tree of `tree_size` leaves (integrated); `None`
    /// when that tree does not reach the whole tile. A hash tile is one stored row (a partial one cut
    /// to the width asked); an entry bundle is made from its at most 256 `log_leaves` rows, read by
    /// primary-key range: O(1) in the log's size, with no second copy of every leaf.
    pub async fn tile(&self, path: &TilePath, tree_size: u64) -> Result<Option<Vec<u8>>, DbErr> {
        let Some((first, end)) = path.leaf_range().and_then(|(first, count)| Some((first, first.checked_add(count)?)))
        else {
            return Ok(None);
        };
        if end > tree_size {
            return Ok(None);
        }
        let width = path.width() as usize;
        let missing = || DbErr::Custom(format!("the stored log lacks part of the integrated tile {path:?}"));
        match path.level {
            None => {
                let leaves = store::log::leaves(&self.db, first as i64, end as i64).await?;
                if leaves.len() != width {
                    return Err(missing());
                }
                Ok(Some(tiles::entry_bundle(leaves.iter().map(|(_, data)| data.as_slice()))))
            }
            Some(level) => {
                let key = TileKey { level, index: path.index };
                let mut set = TileSet::default();
                store::log::load_tiles(&self.db, &[key], &mut set).await?;
                let hashes = set.get(key).and_then(|hashes| hashes.get(..width)).ok_or_else(missing)?;
                Ok(Some(hashes.concat()))
            }
        }
    }

    /// The database the log is stored in.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Notes an inconsistency another replica's auditor (or an earlier run) recorded.
    pub(crate) fn note_inconsistency(&self, finding: &str) {
        if let Ok(mut found) = self.inconsistency.lock()
            && found.is_none()
        {
            tracing::error!(finding, "TRANSPARENCY LOG INCONSISTENT: checkpoints stopped");
            *found = Some(finding.to_owned());
        }
    }

    /// Stops checkpoints: the stored log no longer matches checkpoint `tree_size`. Recorded in the
    /// database too, so every replica answers LOG_INCONSISTENT, and after a restart.
    pub(crate) async fn flag_inconsistent(&self, tree_size: i64, detail: String) -> CheckpointError {
        let error = CheckpointError::Inconsistent { tree_size, detail };
        let finding = error.to_string();
        self.note_inconsistency(&finding);
        if let Err(database) = store::log::record_audit_finding(&self.db, &finding).await {
            tracing::error!(%database, "recording the log's inconsistency failed");
        }
        error
    }
}

/// What one integration did.
#[derive(Debug)]
pub struct Integration {
    /// The checkpoint it signed, when the tree grew (or none was ever signed).
    pub checkpoint: Option<checkpoint_row::Model>,
    /// The leaves the tiles cover now.
    pub integrated_size: i64,
    /// Whether committed leaves remain past the batch.
    pub more: bool,
}

enum Refusal {
    Database(DbErr),
    Inconsistent { tree_size: i64, detail: String },
}

impl From<DbErr> for Refusal {
    fn from(error: DbErr) -> Self {
        Self::Database(error)
    }
}

/// The leaf hashes of `leaves`, rehashed from their bytes (a stored hash changed along with its leaf
/// proves nothing), which must be every index of `[first, end)`; which is missing, when one is.
pub(crate) fn rehash(leaves: &[(i64, Vec<u8>)], first: u64, end: u64) -> Result<Vec<Hash>, String> {
    let mut hashes = Vec::with_capacity(leaves.len());
    for (expected, (index, data)) in (first..).zip(leaves) {
        if *index as u64 != expected {
            return Err(format!("leaf {expected} is missing"));
        }
        hashes.push(merkle::leaf_hash(data));
    }
    match first + hashes.len() as u64 {
        reached if reached < end => Err(format!("leaf {reached} is missing")),
        _ => Ok(hashes),
    }
}

/// Every hash of `plan` from the stored tiles, loading into `set` those it lacks (a few per level);
/// `None` when a tile lacks a hash the plan needs.
pub(crate) async fn evaluate(
    connection: &impl ConnectionTrait,
    set: &mut TileSet,
    plan: &[Fold],
) -> Result<Option<Vec<Hash>>, DbErr> {
    let needed = tiles::tiles_holding(plan.iter().flatten());
    store::log::load_tiles(connection, &set.missing(&needed), set).await?;
    Ok(merkle::evaluate(plan, |subtree| set.subtree_hash(subtree)))
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
