//! Fuzzes the tile path reader (signing's `domain::tiles::TilePath::parse`), which reads the paths of
//! requests to the transparency log's tile server. A path it accepts, written in the C2SP tlog-tiles
//! form, reads back as the same tile, and that form is never longer than the path read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_signing::domain::tiles::{TILE_WIDTH, TilePath};

/// The C2SP tlog-tiles path of `tile`: `x`-prefixed three-digit groups, the last without `x`.
fn written(tile: &TilePath) -> String {
    let level = tile.level.map_or_else(|| "entries".to_owned(), |level| level.to_string());
    let mut groups = Vec::new();
    let mut index = tile.index;
    loop {
        groups.push(index % 1000);
        index /= 1000;
        if index == 0 {
            break;
        }
    }
    let groups: Vec<String> = groups
        .iter()
        .rev()
        .enumerate()
        .map(
            |(position, group)| {
                if position + 1 == groups.len() { format!("{group:03}") } else { format!("x{group:03}") }
            },
        )
        .collect();
    let partial = tile.partial_width.map(|width| format!(".p/{width}")).unwrap_or_default();
    format!("tile/{level}/{}{partial}", groups.join("/"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Some(tile) = TilePath::parse(path) else { return };
    assert!(tile.level.is_none_or(|level| level <= 63));
    assert!(tile.partial_width.is_none_or(|width| (1..TILE_WIDTH).contains(&width)));
    assert!((1..=TILE_WIDTH).contains(&tile.width()));
    let _ = tile.leaf_range();
    let canonical = written(&tile);
    assert_eq!(TilePath::parse(&canonical), Some(tile), "{canonical}");
    assert!(canonical.len() <= path.len(), "{canonical} is longer than {path}");
});
