//! docs/operations.md's table of variables has one row for each variable any service reads (the
//! chassis's shared list and each service's own, concatenated), with its secret flag: an operator never
//! has to read Rust to learn the configuration. `make deploy-check` checks the defaults and manifests.

use motcua_chassis::config::Variable;

/// Every list: the chassis's, then each service's own.
fn every_variable() -> Vec<Variable> {
    [
        motcua_chassis::config::VARIABLES,
        motcua_intake::settings::VARIABLES,
        motcua_signing::settings::VARIABLES,
        motcua_receipt::settings::VARIABLES,
        motcua_reporting::settings::VARIABLES,
    ]
    .concat()
}

/// The rows of the variables table, `| `NAME` | default | yes/no | description |`: (name, secret column).
/// Other tables (compose's development settings) have no secret column and are not read.
fn table_rows(guide: &str) -> Vec<(String, String)> {
    guide
        .lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `")?.split('|');
            let name = cells.next()?.trim().strip_suffix('`')?;
            let secret = cells.nth(1)?.trim();
            ((name.starts_with("MOTCUA_") || name.starts_with("OTEL_")) && matches!(secret, "yes" | "no"))
                .then(|| (name.to_owned(), secret.to_owned()))
        })
        .collect()
}

#[test]
fn the_operations_guide_has_a_row_for_every_variable_and_none_for_an_unknown_one() {
    let guide_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operations.md");
    let guide = std::fs::read_to_string(guide_path).expect("docs/operations.md exists");
    let rows = table_rows(&guide);
    let variables = every_variable();
    let missing: Vec<_> = variables
        .iter()
        .filter(|variable| !rows.iter().any(|(name, _)| name == variable.name))
        .map(|variable| variable.name)
        .collect();
    assert!(missing.is_empty(), "docs/operations.md's table has no row for {missing:?}");
    let unknown: Vec<_> =
        rows.iter().filter(|(name, _)| !variables.iter().any(|variable| variable.name == name)).collect();
    assert!(unknown.is_empty(), "docs/operations.md's table lists variables nothing reads: {unknown:?}");
    let wrong_secret: Vec<_> = variables
        .iter()
        .filter(|variable| {
            rows.iter().any(|(name, secret)| name == variable.name && (secret == "yes") != variable.secret)
        })
        .map(|variable| variable.name)
        .collect();
    assert!(wrong_secret.is_empty(), "docs/operations.md's secret column is wrong for {wrong_secret:?}");
}

#[test]
fn each_variable_is_declared_once_by_the_service_that_reads_it() {
    let variables = every_variable();
    let mut names: Vec<_> = variables.iter().map(|variable| variable.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), variables.len(), "a variable is declared twice");
    for (service, own) in [
        ("INTAKE", motcua_intake::settings::VARIABLES),
        ("SIGNING", motcua_signing::settings::VARIABLES),
        ("RECEIPT", motcua_receipt::settings::VARIABLES),
        ("REPORTING", motcua_reporting::settings::VARIABLES),
    ] {
        let prefix = format!("MOTCUA_{service}_");
        assert!(own.iter().all(|variable| variable.name.starts_with(&prefix)), "{service} declares another's variable");
    }
}
