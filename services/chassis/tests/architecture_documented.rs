//! docs/architecture.md describes the chassis as it really is: every module the crate declares has its
//! row in the chassis table, so a newcomer never meets a module the map leaves out.

/// The modules `src/lib.rs` declares, public or not, by name.
fn declared_modules() -> Vec<String> {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).expect("src/lib.rs exists");
    lib.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod ")))
        .map(|rest| rest.trim_end_matches(';').trim().to_owned())
        .collect()
}

/// The rows of the table under the heading that names the chassis.
fn documented_modules() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/architecture.md");
    let page = std::fs::read_to_string(path).expect("docs/architecture.md exists");
    let section = page
        .split("\n## ")
        .find(|section| section.starts_with("The chassis"))
        .expect("docs/architecture.md has a section '## The chassis'");
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn architecture_page_has_a_row_for_every_chassis_module() {
    let documented = documented_modules();
    let declared = declared_modules();
    assert!(declared.len() > 10, "src/lib.rs declares its modules one per line: found {declared:?}");
    let missing: Vec<_> = declared.iter().filter(|name| !documented.contains(name)).collect();
    assert!(missing.is_empty(), "docs/architecture.md's chassis table leaves out {missing:?}");
}

#[test]
fn architecture_page_names_no_chassis_module_that_is_gone() {
    let declared = declared_modules();
    let stale: Vec<_> = documented_modules().into_iter().filter(|name| !declared.contains(name)).collect();
    assert!(stale.is_empty(), "docs/architecture.md's chassis table names modules the crate no longer has: {stale:?}");
}
