//! C2SP tlog-tiles: tile paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), which hashes a
//! tile holds, the entry bundle format, and the tree kept as its hash tiles: the tiles a subtree's
//! hash is read from, and integration, which appends leaf hashes along the right edge.

use std::collections::HashMap;

use super::merkle::{self, Hash, Subtree};

/// A tile's height: each tile holds up to 256 hashes.
pub const TILE_WIDTH: u64 = 256;

/// A tile named by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// The hash level (0 for leaf hashes), or `None` for an entry bundle.
    pub level: Option<u8>,
    /// The tile's index at its level.
    pub index: u64,
    /// The width of a partial tile (1..=255), or `None` for a full one.
    pub partial_width: Option<u64>,
}

impl TilePath {
    /// Reads a path without its leading slash; `None` when it is not a tile path.
    pub fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("tile/")?;
        let (level_text, rest) = rest.split_once('/')?;
        let level = match level_text {
            "entries" => None,
            digits => {
                let level: u8 = parse_decimal(digits)?.try_into().ok()?;
                (level <= 63).then_some(level)?;
                Some(level)
            }
        };
        let (index_text, partial_width) = match rest.split_once(".p/") {
            Some((index_text, width_text)) => {
                let width = parse_decimal(width_text)?;
                (1..TILE_WIDTH).contains(&width).then_some(width)?;
                (index_text, Some(width))
            }
            None => (rest, None),
        };
        Some(Self { level, index: parse_index(index_text)?, partial_width })
    }

    /// How many hashes (or entries) the tile holds.
    pub fn width(&self) -> u64 {
        self.partial_width.unwrap_or(TILE_WIDTH)
    }

    /// How many leaves one hash of this tile covers: 256^level (1 for entries and level 0).
    pub fn leaves_per_hash(&self) -> Option<u64> {
        TILE_WIDTH.checked_pow(u32::from(self.level.unwrap_or(0)))
    }

    /// The first leaf the tile covers, and how many leaves it needs to exist.
    pub fn leaf_range(&self) -> Option<(u64, u64)> {
        let per_hash = self.leaves_per_hash()?;
        let first = self.index.checked_mul(TILE_WIDTH)?.checked_mul(per_hash)?;
        Some((first, self.width().checked_mul(per_hash)?))
    }
}

fn parse_decimal(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) && (text == "0" || !text.starts_with('0')))
        .then(|| text.parse().ok())?
}

/// `x001/x234/067` is 1234067: every element three digits, all but the last prefixed with `x`.
fn parse_index(text: &str) -> Option<u64> {
    let elements: Vec<&str> = text.split('/').collect();
    let (last, leading) = elements.split_last()?;
    let mut index: u64 = 0;
    for element in leading.iter().map(|element| element.strip_prefix('x')).chain([Some(*last)]) {
        let element = element?;
        if element.len() != 3 || !element.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(element.parse().ok()?)?;
    }
    Some(index)
}

/// The entry bundle: each entry's length as two big-endian bytes, then the entry.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut bundle = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len()).unwrap_or(u16::MAX);
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(&entry[..usize::from(length)]);
    }
    bundle
}

/// A hash tile: level `level` holds the hashes of the subtrees of height 8 × level, 256 to a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey {
    /// The tile's level.
    pub level: u8,
    /// The tile's index at its level.
    pub index: u64,
}

/// Why tiles could not be used: one the tree needs is not there, or holds fewer or more hashes than
/// the tree's size says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tile {level}/{index}: {detail}")]
pub struct TileError {
    /// The tile's level.
    pub level: u8,
    /// The tile's index.
    pub index: u64,
    /// What is wrong with it.
    pub detail: String,
}

/// The number of hashes at `level` in a tree of `size` leaves: its complete subtrees of height 8 × level.
fn hashes_at(level: u8, size: u64) -> u64 {
    size.checked_shr(8 * u32::from(level)).unwrap_or(0)
}

/// The tile holding `subtree`, and where its 2^(height % 8) hashes start in it: subtree (h, k) is the
/// root of level h / 8's hashes k × 2^(h % 8) onward, all in one tile since 2^(h % 8) divides 256.
pub fn location(subtree: Subtree) -> (TileKey, usize, usize) {
    let level = (subtree.height / 8) as u8;
    let count = 1usize << (subtree.height % 8);
    let first = subtree.index << (subtree.height % 8);
    (TileKey { level, index: first / TILE_WIDTH }, (first % TILE_WIDTH) as usize, count)
}

/// The tiles that hold `subtrees`, each once.
pub fn tiles_holding<'a>(subtrees: impl IntoIterator<Item = &'a Subtree>) -> Vec<TileKey> {
    let mut keys: Vec<TileKey> = subtrees.into_iter().map(|subtree| location(*subtree).0).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The partial tiles on the right edge of a tree of `size` leaves: one per level at most, the ones
/// integration extends.
pub fn right_edge(size: u64) -> Vec<TileKey> {
    (0..8u8)
        .take_while(|level| hashes_at(*level, size) > 0)
        .filter(|level| hashes_at(*level, size) % TILE_WIDTH != 0)
        .map(|level| TileKey { level, index: hashes_at(level, size) / TILE_WIDTH })
        .collect()
}

/// Some hash tiles of the tree, as read from storage or just written.
#[derive(Debug, Default, Clone)]
pub struct TileSet {
    tiles: HashMap<TileKey, Vec<Hash>>,
}

impl TileSet {
    /// Adds (or replaces) a tile.
    pub fn insert(&mut self, key: TileKey, hashes: Vec<Hash>) {
        self.tiles.insert(key, hashes);
    }

    /// A tile's hashes, when the set has it.
    pub fn get(&self, key: TileKey) -> Option<&[Hash]> {
        self.tiles.get(&key).map(Vec::as_slice)
    }

    /// Of `keys`, those the set has not.
    pub fn missing(&self, keys: &[TileKey]) -> Vec<TileKey> {
        keys.iter().filter(|key| !self.tiles.contains_key(key)).copied().collect()
    }

    /// The hash of a complete subtree from its tile; `None` when the set lacks it.
    pub fn subtree_hash(&self, subtree: Subtree) -> Option<Hash> {
        let (key, first, count) = location(subtree);
        self.tiles.get(&key)?.get(first..first + count).map(merkle::root)
    }

    /// Appends `leaf_hashes` to a tree of `size` leaves along its right edge: each level's partial
    /// tile (which the set must hold) is extended, and every tile that fills makes one hash of the
    /// level above. Returns the tiles written, at most one partial one per level. O(batch + levels × 256).
    pub fn integrate(&mut self, size: u64, leaf_hashes: &[Hash]) -> Result<Vec<TileKey>, TileError> {
        let new_size = size + leaf_hashes.len() as u64;
        let mut written = Vec::new();
        let mut new_hashes = leaf_hashes.to_vec();
        for level in 0..8u8 {
            let (before, after) = (hashes_at(level, size), hashes_at(level, new_size));
            if before == after {
                break;
            }
            let first_tile = before / TILE_WIDTH;
            let kept = (before % TILE_WIDTH) as usize;
            let mut combined = Vec::with_capacity(kept + new_hashes.len());
            if kept > 0 {
                let key = TileKey { level, index: first_tile };
                let stored = self.get(key).ok_or_else(|| TileError {
                    level,
                    index: first_tile,
                    detail: "the right-edge tile is not stored".to_owned(),
                })?;
                if stored.len() != kept {
                    return Err(TileError {
                        level,
                        index: first_tile,
                        detail: format!("holds {} hashes where the tree of {size} leaves has {kept}", stored.len()),
                    });
                }
                combined.extend_from_slice(stored);
            }
            combined.append(&mut new_hashes);
            for (offset, chunk) in combined.chunks(TILE_WIDTH as usize).enumerate() {
                if chunk.len() == TILE_WIDTH as usize {
                    new_hashes.push(merkle::root(chunk));
                }
                let key = TileKey { level, index: first_tile + offset as u64 };
                self.tiles.insert(key, chunk.to_vec());
                written.push(key);
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_read_as_the_spec_writes_them() {
        assert_eq!(
            TilePath::parse("tile/0/x001/234"),
            Some(TilePath { level: Some(0), index: 1234, partial_width: None })
        );
        assert_eq!(
            TilePath::parse("tile/1/005.p/17"),
            Some(TilePath { level: Some(1), index: 5, partial_width: Some(17) })
        );
        assert_eq!(TilePath::parse("tile/entries/000"), Some(TilePath { level: None, index: 0, partial_width: None }));
    }

    #[test]
    fn malformed_tile_paths_are_refused() {
        for path in ["tile/0/1234", "tile/0/x1/234", "tile/64/000", "tile/0/000.p/256", "tile/0/000.p/0", "/tile/0/000"]
        {
            assert_eq!(TilePath::parse(path), None, "{path}");
        }
    }

    fn leaves(count: u64) -> Vec<Hash> {
        (0..count).map(|index| merkle::leaf_hash(&index.to_be_bytes())).collect()
    }

    /// Integrates `tree` in batches of the sizes given, in turn, as the checkpointer would.
    fn integrated(tree: &[Hash], batches: &[usize]) -> TileSet {
        let mut set = TileSet::default();
        let (mut size, mut turn) = (0, 0);
        while size < tree.len() {
            let end = (size + batches[turn % batches.len()]).min(tree.len());
            let written = set.integrate(size as u64, &tree[size..end]).expect("integrated");
            assert!(written.iter().filter(|key| set.get(**key).map(<[Hash]>::len) != Some(256)).count() <= 8);
            (size, turn) = (end, turn + 1);
        }
        set
    }

    fn assert_tiles_prove_as_in_memory(set: &TileSet, tree: &[Hash], size: u64, indexes: &[u64]) {
        let prefix = &tree[..size as usize];
        let lookup = |subtree| set.subtree_hash(subtree);
        let root = merkle::fold(&merkle::root_plan(size), &mut { lookup });
        assert_eq!(root, Some(merkle::root(prefix)), "root of {size}");
        for &index in indexes {
            let plan = merkle::inclusion_plan(index, size);
            let proof = plan.map(|plan| merkle::evaluate(&plan, lookup).expect("the tiles hold every subtree"));
            assert_eq!(proof, merkle::inclusion_proof(index as usize, prefix), "leaf {index} of {size}");
            let plan = merkle::consistency_plan(index, size);
            let proof = plan.map(|plan| merkle::evaluate(&plan, lookup).expect("the tiles hold every subtree"));
            assert_eq!(proof, merkle::consistency_proof(index as usize, prefix), "{index} within {size}");
        }
    }

    #[test]
    fn tile_proofs_match_the_in_memory_proofs_at_every_size_to_600() {
        let tree = leaves(600);
        for size in 1..=600u64 {
            // Integrated once to exactly this size, in uneven batches, so right edges are as stored.
            let set = integrated(&tree[..size as usize], &[1, 7, 300, 2, 256]);
            let indexes: Vec<u64> =
                (0..=size).filter(|index| size < 40 || index % 37 == 0 || *index + 2 >= size).collect();
            assert_tiles_prove_as_in_memory(&set, &tree, size, &indexes);
        }
    }

    #[test]
    fn tile_proofs_match_the_in_memory_proofs_around_a_level_two_tile() {
        let tree = leaves(65_536 + 300);
        let sizes = [65_535, 65_536, 65_537, 65_536 + 255, 65_536 + 256, 65_536 + 257, 65_536 + 300];
        for size in sizes {
            let set = integrated(&tree[..size as usize], &[10_000, 1, 255, 4_000]);
            let indexes = [0, 1, 255, 256, 32_767, 32_768, 65_535, 65_536, size - 1, size / 3];
            assert_tiles_prove_as_in_memory(&set, &tree, size, &indexes);
            assert_eq!(set.get(TileKey { level: 2, index: 0 }).map(<[Hash]>::len), (size >= 65_536).then_some(1));
        }
    }

    #[test]
    fn the_right_edge_holds_one_partial_tile_per_level() {
        assert_eq!(right_edge(0), Vec::new());
        assert_eq!(right_edge(256), vec![TileKey { level: 1, index: 0 }]);
        assert_eq!(
            right_edge(65_536 + 300),
            vec![TileKey { level: 0, index: 257 }, TileKey { level: 1, index: 1 }, TileKey { level: 2, index: 0 }]
        );
    }

    #[test]
    fn integration_refuses_a_right_edge_tile_of_the_wrong_width() {
        let tree = leaves(10);
        let mut set = integrated(&tree[..5], &[5]);
        set.insert(TileKey { level: 0, index: 0 }, tree[..4].to_vec());
        let error = set.integrate(5, &tree[5..]).expect_err("a short tile");
        assert_eq!((error.level, error.index), (0, 0));
    }

    #[test]
    fn a_level_one_tile_covers_256_times_256_leaves() {
        let tile = TilePath::parse("tile/1/001").expect("valid");
        assert_eq!(tile.leaf_range(), Some((65_536, 65_536)));
    }
}
