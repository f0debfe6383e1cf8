//! C2SP tlog-tiles: tile paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), which hashes a
//! tile holds, and the entry bundle format.

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

    #[test]
    fn a_level_one_tile_covers_256_times_256_leaves() {
        let tile = TilePath::parse("tile/1/001").expect("valid");
        assert_eq!(tile.leaf_range(), Some((65_536, 65_536)));
    }
}
