//! The shipped configuration files the chassis reads parse and say what the architecture promises.
//! (docs/operations.md's table of variables is checked against every list in cli/tests.)

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
