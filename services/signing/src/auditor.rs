//! The transparency log's background auditor: in steps of one level-0 tile, it rehashes the stored
//! leaves from their bytes, compares them with the stored tile and each full tile with its hash in
//! the level above, and at the end of each pass the tiles' root with the last signed checkpoint. Its
//! progress is a row, so a restart (or another replica) carries on; a mismatch stops checkpoints on
//! every replica, and `GetCheckpoint` answers LOG_INCONSISTENT.

use sea_orm::DbErr;

use crate::{
    domain::{
        merkle::{self, Hash},
        tiles::{TILE_WIDTH, TileKey, TileSet},
    },
    store,
    transparency::{self, TransparencyLog},
};

/// What one step of the audit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditStep {
    /// Leaves `[from, to)` match their tiles, and those tiles the levels above.
    Checked {
        /// The first leaf checked.
        from: u64,
        /// The leaf after the last checked.
        to: u64,
    },
    /// A pass over the whole log ended, and the tiles give the last signed root.
    PassComplete {
        /// The passes complete now.
        passes: i64,
        /// The leaves the pass covered.
        leaves: u64,
    },
    /// The log was found inconsistent (now or before): nothing more to audit.
    Inconsistent(String),
}

/// Audits the next level-0 tile of `log` (or ends the pass). Reads at most 256 leaves and one tile
/// per level.
pub async fn audit_step(log: &TransparencyLog) -> Result<AuditStep, DbErr> {
    let db = log.db();
    let state = store::log::audit_state(db).await?;
    if let Some(finding) = state.finding.as_deref().map(str::to_owned).or_else(|| log.inconsistency()) {
        log.note_inconsistency(&finding);
        return Ok(AuditStep::Inconsistent(finding));
    }
    let integrated = store::log::integrated_size(db).await? as u64;
    let next = state.next_leaf as u64;
    if next >= integrated {
        if let Some(detail) = signed_root_mismatch(log, integrated).await? {
            return Ok(inconsistent(log, detail).await);
        }
        store::log::advance_audit(db, state.next_leaf, 0, state.passes + 1).await?;
        return Ok(AuditStep::PassComplete { passes: state.passes + 1, leaves: integrated });
    }
    let tile_index = next / TILE_WIDTH;
    let (from, to) = (tile_index * TILE_WIDTH, ((tile_index + 1) * TILE_WIDTH).min(integrated));
    let leaves = store::log::leaves(db, from as i64, to as i64).await?;
    let hashes = match transparency::rehash(&leaves, from, to) {
        Ok(hashes) => hashes,
        Err(detail) => return Ok(inconsistent(log, detail).await),
    };
    if let Some(detail) = tile_mismatch(log, tile_index, &hashes).await? {
        return Ok(inconsistent(log, detail).await);
    }
    store::log::advance_audit(db, state.next_leaf, to as i64, state.passes).await?;
    Ok(AuditStep::Checked { from, to })
}

/// Where the level-0 tile `tile_index` differs from the rehashed leaves, or a full tile on the way up
/// from the hash the level above holds of it.
async fn tile_mismatch(log: &TransparencyLog, tile_index: u64, leaf_hashes: &[Hash]) -> Result<Option<String>, DbErr> {
    let mut set = TileSet::default();
    let mut key = TileKey { level: 0, index: tile_index };
    store::log::load_tiles(log.db(), &[key], &mut set).await?;
    let stored = set.get(key).unwrap_or_default();
    if let Some(offset) = (0..leaf_hashes.len()).find(|offset| stored.get(*offset) != Some(&leaf_hashes[*offset])) {
        let leaf = tile_index * TILE_WIDTH + offset as u64;
        return Ok(Some(format!("leaf {leaf} no longer hashes to its stored tile 0/{tile_index}")));
    }
    while let Some(hashes) = set.get(key).filter(|hashes| hashes.len() == TILE_WIDTH as usize) {
        let tile_root = merkle::root(hashes);
        let parent = TileKey { level: key.level + 1, index: key.index / TILE_WIDTH };
        if parent.level >= 8 {
            break;
        }
        store::log::load_tiles(log.db(), &[parent], &mut set).await?;
        let position = (key.index % TILE_WIDTH) as usize;
        if set.get(parent).and_then(|hashes| hashes.get(position)) != Some(&tile_root) {
            return Ok(Some(format!(
                "the stored tile {}/{} no longer hashes to its entry in tile {}/{}",
                key.level, key.index, parent.level, parent.index
            )));
        }
        key = parent;
    }
    Ok(None)
}

/// Whether the stored tiles fail to give the root of the last signed checkpoint (when the tiles
/// cover it).
async fn signed_root_mismatch(log: &TransparencyLog, integrated: u64) -> Result<Option<String>, DbErr> {
    let Some(latest) = store::log::latest_checkpoint(log.db()).await? else { return Ok(None) };
    if latest.tree_size as u64 > integrated {
        return Ok(None);
    }
    let plan = [merkle::root_plan(latest.tree_size as u64)];
    let root = transparency::evaluate(log.db(), &mut TileSet::default(), &plan).await?;
    let matches = root.as_deref().and_then(<[Hash]>::first).is_some_and(|root| root.as_slice() == latest.root_hash);
    Ok((!matches)
        .then(|| format!("the stored tiles no longer give the signed root of checkpoint {}", latest.tree_size)))
}

async fn inconsistent(log: &TransparencyLog, detail: String) -> AuditStep {
    let signed_size = store::log::latest_checkpoint(log.db()).await.ok().flatten().map_or(0, |latest| latest.tree_size);
    AuditStep::Inconsistent(
        log.flag_inconsistent(signed_size, format!("the auditor found: {detail}")).await.to_string(),
    )
}
