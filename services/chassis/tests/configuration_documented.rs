//! docs/operations.md lists every variable the chassis reads: an operator never has to read Rust to
//! learn the configuration.

use motcua_chassis::config::VARIABLES;

#[test]
fn operations_guide_names_every_configuration_variable() {
    let guide_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations.md");
    let guide = std::fs::read_to_string(guide_path).expect("docs/operations.md exists");
    let missing: Vec<_> =
        VARIABLES.iter().map(|variable| variable.name).filter(|name| !guide.contains(&format!("`{name}`"))).collect();
    assert!(missing.is_empty(), "docs/operations.md does not list {missing:?}");
}
