//! docs/testing.md says exactly which tests run on both databases: for every test file of the
//! workspace, how many tests it has and how many of them run on SQLite and on PostgreSQL. A test added,
//! removed, or moved to one database without the page following fails here.

use std::{collections::BTreeMap, path::Path};

/// A test file's count: (tests, tests that run on both databases).
type Counts = BTreeMap<String, (usize, usize)>;

/// What marks a test as run on both databases: the harness's loop over every database.
const ON_BOTH: [&str; 2] = ["on_every_database", "TestDatabase::all"];

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The test files: each crate's `tests/*.rs` (modules in sub-folders belong to their file).
fn test_files() -> Vec<String> {
    let mut folders = vec!["cli/tests".to_owned(), "tests/e2e/tests".to_owned()];
    let services = std::fs::read_dir(workspace().join("services")).expect("services/ exists");
    folders.extend(services.flatten().map(|entry| format!("services/{}/tests", entry.file_name().to_string_lossy())));
    let mut files: Vec<String> = folders
        .iter()
        .filter_map(|folder| std::fs::read_dir(workspace().join(folder)).ok().map(|entries| (folder, entries)))
        .flat_map(|(folder, entries)| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".rs"))
                .map(move |name| format!("{folder}/{name}"))
        })
        .collect();
    files.sort();
    files
}

/// Each test of `source` (from the line of its `#[test]` or `#[tokio::test]` attribute to the next
/// one), and whether it runs on both databases.
fn count(source: &str) -> (usize, usize) {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let attribute = line.trim_start();
        if attribute.starts_with("#[test]") || attribute.starts_with("#[tokio::test") {
            starts.push(offset);
        }
        offset += line.len();
    }
    let both = starts
        .iter()
        .enumerate()
        .filter(|(position, start)| {
            let end = starts.get(position + 1).copied().unwrap_or(source.len());
            ON_BOTH.iter().any(|marker| source[**start..end].contains(marker))
        })
        .count();
    (starts.len(), both)
}

fn counted() -> Counts {
    test_files()
        .into_iter()
        .filter_map(|file| {
            let source = std::fs::read_to_string(workspace().join(&file)).expect("a test file is readable");
            let (tests, both) = count(&source);
            (tests > 0).then_some((file, (tests, both)))
        })
        .collect()
}

/// The page's table rows: `| `file` | tests | on both | ... |`.
fn documented() -> Counts {
    let page = std::fs::read_to_string(workspace().join("docs/testing.md")).expect("docs/testing.md exists");
    page.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let tests = cells.get(2)?.parse().ok()?;
            let both = cells.get(3)?.parse().ok()?;
            Some((file.to_owned(), (tests, both)))
        })
        .collect()
}

#[test]
fn testing_page_counts_every_test_file_and_its_tests_on_both_databases() {
    let counted = counted();
    let documented = documented();
    let wrong: Vec<_> = counted
        .iter()
        .filter(|(file, counts)| documented.get(*file) != Some(counts))
        .map(|(file, (tests, both))| format!("{file}: {tests} tests, {both} on both databases"))
        .collect();
    let stale: Vec<_> = documented.keys().filter(|file| !counted.contains_key(*file)).collect();
    assert!(wrong.is_empty(), "docs/testing.md does not say: {wrong:#?}");
    assert!(stale.is_empty(), "docs/testing.md lists test files that have no tests: {stale:?}");
}
