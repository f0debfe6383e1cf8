#!/usr/bin/env python3
"""`make deploy-check`: renders every kustomize overlay with `kubectl kustomize`, validates every object
against the Kubernetes API schemas (kubernetes-validate, strict), checks the rules of issue 7 on the
rendered objects (among them: every TLS and policy path a service is given is mounted, and an overlay's
policy only adds read-only identities to the base's), compares the chassis's configuration variables with
the base and docs/operations.md, lints the Dockerfile with hadolint and checks it, .dockerignore,
compose.yaml (every service can identify its callers) and the collector configuration.

    deploy_check.py              check the repository; one line per failure, exit 1 when any
    deploy_check.py --self-test  prove the checks catch broken manifests (fixtures/, test_deploy_check.py)
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# No __pycache__ folders in the checkout.
sys.dont_write_bytecode = True

from manifests import RenderError, kubectl, render  # noqa: E402
from rules_collector import check_collector  # noqa: E402
from rules_compose import check_compose  # noqa: E402
from rules_config import (  # noqa: E402
    check_base,
    check_compose_environment,
    check_env_files,
    check_operations_guide,
    read_variables,
)
from rules_docker import check_dockerfile, check_dockerignore, moving_base_notes, run_hadolint  # noqa: E402
from rules_manifests import (  # noqa: E402
    check_config_maps,
    check_peer_urls,
    check_containers,
    check_overlay_promises,
    check_references,
    check_services,
)
from rules_network import check_network_policies  # noqa: E402
from rules_tls import check_policy, check_tls_mounts  # noqa: E402

ROOT = HERE.parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "production": K8S / "overlays" / "production"}
# The oldest Kubernetes motcua's manifests promise to run on, and the newest the pinned
# kubernetes-validate knows; every object must be valid for both.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
EXTERNAL_SECRETS_FILE = "external-secrets.yaml"
BASE_POLICY = K8S / "base" / "policy.yaml"


def base_policy_identities() -> dict:
    """The identities the base's policy grants, which an overlay may add to but not change."""
    return (yaml.safe_load(BASE_POLICY.read_text()) or {}).get("identities") or {}


def external_secrets(overlay_dir: Path) -> dict[str, set[str]]:
    """The Secrets an overlay declares the operator provides: name -> keys read from it."""
    path = overlay_dir / EXTERNAL_SECRETS_FILE
    if not path.is_file():
        return {}
    listed = (yaml.safe_load(path.read_text()) or {}).get("externalSecrets") or []
    return {entry["name"]: set(entry.get("keys") or []) for entry in listed}


def validate_schemas(overlay: str, objects: list[dict]) -> list[str]:
    failures = []
    for obj in objects:
        name = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(part) for part in error.absolute_path) or "(object)"
                failures.append(f"{overlay}: {name}: not valid for Kubernetes {version} at {path}: {error.message}")
            except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
                failures.append(f"{overlay}: {name}: {error.message}")
    return failures


def check_overlay(name: str, directory: Path) -> list[str]:
    """Every rule on one rendered overlay (or fixture)."""
    try:
        objects = render(directory)
    except RenderError as error:
        return [f"{name}: {error}"]
    return (
        validate_schemas(name, objects)
        + check_containers(name, objects)
        + check_references(name, objects, external_secrets(directory))
        + check_config_maps(name, objects)
        + check_peer_urls(name, objects)
        + check_services(name, objects)
        + check_network_policies(name, objects)
        + check_overlay_promises(name, objects)
        + check_tls_mounts(name, objects)
        + check_policy(name, objects, base_policy_identities())
    )


def check_configuration() -> list[str]:
    """The variables! lists (the chassis's and each service's) against the rendered base, every env file,
    compose.yaml and docs/operations.md."""
    variables, failures = read_variables(ROOT)
    if failures:
        return failures
    try:
        base = render(K8S / "base")
    except RenderError as error:
        return [f"base: {error}"]
    compose_path = ROOT / "deploy/compose/compose.yaml"
    try:
        compose = yaml.safe_load(compose_path.read_text())
    except yaml.YAMLError as error:
        return [f"deploy/compose/compose.yaml: not YAML: {error}"]
    return (
        check_base(variables, base)
        + check_env_files(variables, K8S)
        + check_compose_environment(variables, compose, "deploy/compose/compose.yaml")
        + check_operations_guide(variables, (ROOT / "docs/operations.md").read_text())
    )


def check_repository() -> list[str]:
    kubectl()
    failures = []
    for name, directory in OVERLAYS.items():
        failures += check_overlay(name, directory)
        print(f"deploy-check: checked overlay {name}, validated for Kubernetes {' and '.join(KUBERNETES_VERSIONS)}")
    failures += check_configuration()
    dockerignore = ROOT / ".dockerignore"
    dockerfile = ROOT / "deploy/docker/Dockerfile"
    failures += check_dockerfile(dockerfile.read_text())
    linted, notes = run_hadolint(dockerfile)
    failures += linted
    for note in notes + moving_base_notes(dockerfile.read_text()):
        print(f"deploy-check: note {note}")
    failures += check_dockerignore(dockerignore.read_text() if dockerignore.is_file() else None)
    compose_path = ROOT / "deploy/compose/compose.yaml"
    try:
        failures += check_compose(yaml.safe_load(compose_path.read_text()), compose_path.parent)
    except yaml.YAMLError as error:
        failures.append(f"deploy/compose/compose.yaml: not YAML: {error}")
    collector = K8S / "components/otel-collector/otelcol-config.yaml"
    failures += check_collector(yaml.safe_load(collector.read_text()) or {})
    return failures


def self_test() -> int:
    try:
        kubectl()
    except RenderError as error:
        print(f"FAIL {error}")
        return 1
    suite = unittest.defaultTestLoader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"self-test: {result.testsRun - failed} passed, {failed} failed")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


def main(arguments: list[str]) -> int:
    if arguments == ["--self-test"]:
        return self_test()
    if arguments:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        failures = check_repository()
    except RenderError as error:
        failures = [str(error)]
    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        print(f"deploy-check: {len(failures)} failure(s)")
        return 1
    print(
        "deploy-check: every overlay, the configuration, the Dockerfile (hadolint too), compose.yaml "
        "and the collector pass"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
