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

#[test]
fn the_shipped_kubernetes_policy_parses_and_grants_the_service_edges() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/k8s/base/policy.yaml");
    let text = std::fs::read_to_string(path).expect("deploy/k8s/base/policy.yaml exists");
    let policy = motcua_chassis::policy::Policy::parse(&text).expect("the shipped policy is valid");
    assert!(policy.grant_for("service/intake", "motcua.signing.v1.SigningService/Sign").is_some());
    assert!(policy.grant_for("service/receipt", "motcua.signing.v1.SigningService/Sign").is_some());
    assert!(policy.grant_for("service/receipt", "motcua.signing.v1.SigningService/Seal").is_none());
    assert!(policy.grant_for("agency/unknown", "motcua.intake.v1.IntakeService/GetDossier").is_none());
}
