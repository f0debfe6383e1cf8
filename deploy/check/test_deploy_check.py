"""Self-test of deploy_check (`deploy_check.py --self-test`, part of `make deploy-check`): each broken
fixture under fixtures/ must fail with a line that names what is wrong, and the chassis's VARIABLES must be
compared with the base and the guide. Run from deploy/check/ (the runner puts it on sys.path).
"""

from __future__ import annotations

import copy
import unittest
from pathlib import Path

import yaml

from deploy_check import K8S, OVERLAYS, ROOT, base_policy_identities, check_overlay
from manifests import render
from rules_collector import check_collector
from rules_compose import check_compose
from rules_config import (
    Variable,
    check_base,
    check_env_files,
    check_env_settings,
    check_operations_guide,
    parse_variables,
    read_variables,
)
from rules_docker import base_image_problem, check_dockerfile, check_dockerignore, moving_base_notes, run_hadolint
from rules_manifests import check_config_maps, check_peer_urls, check_references
from rules_tls import check_policy, check_tls_mounts

FIXTURES = Path(__file__).resolve().parent / "fixtures"

SETTINGS_RS = """
motcua_chassis::variables! {
    /// The variables only signing reads.
    pub const VARIABLES = [
        ENV_SIGNING_KEY_ENCRYPTION_SECRET {
            name: "MOTCUA_SIGNING_KEY_ENCRYPTION_SECRET",
            default: "<development secret>",
            secret: true,
            description: "signing: password of the keys",
        },
        ENV_SIGNING_LOG_ORIGIN {
            name: "MOTCUA_SIGNING_LOG_ORIGIN",
            default: "motcua.example/signing-log",
            secret: false,
            description: "signing: origin line of the log's checkpoints",
        },
    ];
}
"""


def failures_mentioning(failures: list[str], *words: str) -> list[str]:
    return [line for line in failures if all(word in line for word in words)]


class BrokenOverlaysFail(unittest.TestCase):
    def test_an_overlay_that_drops_a_probe_fails(self):
        failures = check_overlay("drops-probe", FIXTURES / "drops-probe")
        self.assertTrue(failures_mentioning(failures, "Deployment motcua-receipt", "has no readinessProbe"), failures)

    def test_an_overlay_that_runs_as_root_fails(self):
        failures = check_overlay("runs-as-root", FIXTURES / "runs-as-root")
        self.assertTrue(
            failures_mentioning(failures, "Deployment motcua-signing", "runAsNonRoot is not true"), failures
        )
        self.assertTrue(
            failures_mentioning(failures, "Deployment motcua-signing", "runs as root: runAsUser is 0"), failures
        )

    def test_network_policies_that_open_calls_the_architecture_forbids_fail(self):
        failures = check_overlay("opens-every-edge", FIXTURES / "opens-every-edge")
        self.assertTrue(failures_mentioning(failures, "let receipt call intake"), failures)
        self.assertTrue(failures_mentioning(failures, "let signing call reporting"), failures)
        self.assertFalse(failures_mentioning(failures, "let intake call signing"), failures)

    def test_a_peer_url_naming_no_service_or_port_of_the_render_fails(self):
        objects = render(K8S / "overlays" / "dev")
        self.assertEqual(check_peer_urls("dev", objects), [])
        broken = copy.deepcopy(objects)
        for config_map in broken:
            data = config_map.get("data") or {}
            if config_map.get("kind") == "ConfigMap" and "MOTCUA_RECEIPT_SIGNING_URL" in data:
                data["MOTCUA_RECEIPT_SIGNING_URL"] = "https://signing:50052"
            if config_map.get("kind") == "ConfigMap" and "MOTCUA_INTAKE_SIGNING_URL" in data:
                data["MOTCUA_INTAKE_SIGNING_URL"] = "https://motcua-signing:9999"
        failures = check_peer_urls("dev", broken)
        self.assertTrue(failures_mentioning(failures, "MOTCUA_RECEIPT_SIGNING_URL points at signing"), failures)
        self.assertTrue(failures_mentioning(failures, "MOTCUA_INTAKE_SIGNING_URL points at port 9999"), failures)

    def test_a_reference_to_an_undeclared_secret_fails(self):
        failures = check_overlay("undeclared-secret", FIXTURES / "undeclared-secret")
        self.assertEqual(
            failures_mentioning(failures, "refers to Secret motcua-intake-api-token"),
            [
                "undeclared-secret: Deployment motcua-intake: refers to Secret motcua-intake-api-token, which is "
                "neither in the render nor listed in the overlay's external-secrets.yaml"
            ],
        )

    def test_production_without_its_external_secrets_list_fails(self):
        objects = render(OVERLAYS["production"])
        failures = check_references("production", objects, {})
        self.assertTrue(failures_mentioning(failures, "refers to Secret motcua-signing-tls"), failures)

    def test_a_password_in_a_config_map_fails(self):
        objects = render(OVERLAYS["dev"])
        for obj in objects:
            if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("motcua-intake-config"):
                obj["data"]["MOTCUA_LOG"] = "postgres://intake:hunter2@db/intake"
        self.assertTrue(
            failures_mentioning(check_config_maps("dev", objects), "MOTCUA_LOG holds a URL with a password")
        )


class CallerIdentity(unittest.TestCase):
    def test_an_overlay_that_mounts_no_certificate_where_tls_points_fails(self):
        failures = check_overlay("drops-tls-mount", FIXTURES / "drops-tls-mount")
        for variable in ("MOTCUA_TLS_CERT", "MOTCUA_TLS_KEY", "MOTCUA_TLS_CLIENT_CA"):
            self.assertTrue(
                failures_mentioning(
                    failures, "Deployment motcua-signing", variable, "no volume is mounted at /etc/motcua/tls"
                ),
                failures,
            )
        self.assertFalse(failures_mentioning(failures, "Deployment motcua-intake", "no volume is mounted"), failures)
        # The migrate Jobs get the same ConfigMaps but open no certificate.
        self.assertFalse(failures_mentioning(failures, "Job "), failures)

    def test_a_revocation_list_with_nothing_mounted_where_it_points_fails(self):
        objects = render(OVERLAYS["production"])
        for obj in objects:
            if obj.get("kind") == "Deployment" and obj["metadata"]["name"] == "motcua-intake":
                container = obj["spec"]["template"]["spec"]["containers"][0]
                container["volumeMounts"] = [
                    mount for mount in container["volumeMounts"] if mount["mountPath"] != "/etc/motcua/crl"
                ]
        failures = check_tls_mounts("production", objects)
        self.assertTrue(
            failures_mentioning(
                failures, "Deployment motcua-intake", "MOTCUA_TLS_CLIENT_CRL", "no volume is mounted at /etc/motcua/crl"
            ),
            failures,
        )

    def test_every_overlay_mounts_what_its_services_are_given(self):
        for name, directory in OVERLAYS.items():
            self.assertEqual(check_tls_mounts(name, render(directory)), [], name)

    def test_a_service_without_tls_or_loopback_development_mode_fails(self):
        objects = render(OVERLAYS["dev"])
        for obj in objects:
            if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("motcua-common-config"):
                for variable in ("MOTCUA_TLS_CERT", "MOTCUA_TLS_KEY", "MOTCUA_TLS_CLIENT_CA"):
                    obj["data"][variable] = ""
                obj["data"]["MOTCUA_DEV_IDENTITY"] = "true"
        failures = check_tls_mounts("dev", objects)
        self.assertTrue(
            failures_mentioning(failures, "Deployment motcua-receipt", "'no caller identity is configured'"), failures
        )

    def test_an_overlay_policy_that_changes_the_base_or_lets_a_new_identity_write_fails(self):
        objects = render(OVERLAYS["dev"])
        base = base_policy_identities()
        self.assertEqual(check_policy("dev", objects, base), [])
        self.assertIn("agency/trial", yaml.safe_load(self.policy(objects)["data"]["policy.yaml"])["identities"])
        policy = yaml.safe_load(self.policy(objects)["data"]["policy.yaml"])
        policy["identities"]["agency/trial"]["rpcs"] += ["motcua.intake.v1.IntakeService/CreateDossier", "*"]
        policy["identities"]["service/receipt"]["rpcs"].append("motcua.signing.v1.SigningService/Seal")
        self.policy(objects)["data"]["policy.yaml"] = yaml.safe_dump(policy)
        failures = check_policy("dev", objects, base)
        self.assertTrue(failures_mentioning(failures, "agency/trial", "IntakeService/CreateDossier"), failures)
        self.assertTrue(failures_mentioning(failures, "agency/trial", "call *,"), failures)
        self.assertTrue(failures_mentioning(failures, "changes what the base grants service/receipt"), failures)

    @staticmethod
    def policy(objects: list[dict]) -> dict:
        return next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "motcua-policy")

    def test_a_compose_service_that_cannot_identify_its_callers_fails(self):
        compose_dir = ROOT / "deploy/compose"
        compose = yaml.safe_load((compose_dir / "compose.yaml").read_text())
        self.assertEqual(check_compose(compose, compose_dir, "compose"), [])
        services = compose["services"]
        # intake: mutual TLS set, but the certificates are not mounted.
        services["intake"]["volumes"] = [v for v in services["intake"]["volumes"] if "/etc/motcua/tls/" not in v]
        # signing: the development mode on 0.0.0.0, which it refuses.
        for variable in ("MOTCUA_TLS_CERT", "MOTCUA_TLS_KEY", "MOTCUA_TLS_CLIENT_CA"):
            services["signing"]["environment"].pop(variable)
            services["receipt"]["environment"].pop(variable)
        services["signing"]["environment"]["MOTCUA_DEV_IDENTITY"] = "true"
        # receipt: the development mode on loopback is fine.
        services["receipt"]["environment"].update(MOTCUA_DEV_IDENTITY="true", MOTCUA_LISTEN_ADDR="127.0.0.1:50053")
        # reporting: its certificate's host file is missing.
        services["reporting"]["volumes"][0] = "../trial-tls/missing.crt:/etc/motcua/tls/tls.crt:ro"
        failures = check_compose(compose, compose_dir, "compose")
        self.assertTrue(failures_mentioning(failures, "intake sets MOTCUA_TLS_KEY=", "mounts nothing there"), failures)
        self.assertTrue(
            failures_mentioning(failures, "signing sets MOTCUA_DEV_IDENTITY=true", "not a loopback"), failures
        )
        self.assertFalse(failures_mentioning(failures, "service receipt"), failures)
        self.assertTrue(failures_mentioning(failures, "reporting", "missing.crt"), failures)
        del services["signing"]["environment"]["MOTCUA_DEV_IDENTITY"]
        self.assertTrue(
            failures_mentioning(
                check_compose(compose, compose_dir, "compose"), "signing", "'no caller identity is configured'"
            )
        )


class Configuration(unittest.TestCase):
    def test_variables_are_read_from_a_variables_list(self):
        self.assertEqual(
            parse_variables(SETTINGS_RS),
            [
                Variable("MOTCUA_SIGNING_KEY_ENCRYPTION_SECRET", True, "<development secret>"),
                Variable("MOTCUA_SIGNING_LOG_ORIGIN", False, "motcua.example/signing-log"),
            ],
        )

    def test_an_unreadable_variables_list_is_an_error_not_an_empty_list(self):
        with self.assertRaises(ValueError):
            parse_variables(SETTINGS_RS.replace("            secret: false,\n", ""))

    def test_every_list_is_read_and_each_service_declares_only_its_own(self):
        variables, failures = read_variables(ROOT)
        self.assertEqual(failures, [])
        names = {variable.name for variable in variables}
        for expected in ("MOTCUA_DATABASE_URL", "MOTCUA_INTAKE_SIGNING_URL", "MOTCUA_SIGNING_LOG_ORIGIN",
                         "MOTCUA_RECEIPT_NUMBER_BATCH", "MOTCUA_REPORTING_INDEX_POINTS"):
            self.assertIn(expected, names)

    def test_a_variable_missing_from_the_guide_table_or_documented_wrongly_fails(self):
        guide = (
            "| Variable | Default | Secret | What it sets |\n|---|---|---|---|\n"
            "| `MOTCUA_LOG` | `debug` | no | log filter |\n"
            "| `MOTCUA_TLS_CERT` | empty | yes | certificate |\n"
            "| `MOTCUA_GONE` | `1` | no | removed long ago |\n"
            "Mentioned in prose only: `MOTCUA_NEW`.\n"
        )
        failures = check_operations_guide(
            [Variable("MOTCUA_LOG", False, "info"), Variable("MOTCUA_TLS_CERT", False, ""), Variable("MOTCUA_NEW", False)],
            guide,
        )
        self.assertTrue(failures_mentioning(failures, "MOTCUA_NEW", "has no row"), failures)
        self.assertTrue(failures_mentioning(failures, "MOTCUA_GONE", "which no variables! list declares"), failures)
        self.assertTrue(failures_mentioning(failures, "MOTCUA_LOG defaults to `info`"), failures)
        self.assertTrue(failures_mentioning(failures, "MOTCUA_TLS_CERT is not a secret"), failures)
        self.assertEqual(len(failures), 4, failures)

    def test_an_env_file_or_compose_setting_a_variable_nobody_reads_fails(self):
        variables = [Variable("MOTCUA_LOG", False), Variable("MOTCUA_RECEIPT_SIGNING_URL", False)]
        failures = check_env_settings(
            variables,
            {None: {"MOTCUA_LOG": "info", "MOTCUA_LOGG": "debug"}, "intake": {"MOTCUA_RECEIPT_SIGNING_URL": "x"}},
            "fixture",
        )
        self.assertEqual(
            failures,
            [
                "fixture: sets MOTCUA_LOGG, which no variables! list declares",
                "fixture: sets MOTCUA_RECEIPT_SIGNING_URL for intake, but only receipt reads it",
            ],
        )
        self.assertEqual(check_env_files(read_variables(ROOT)[0], K8S), [])

    def test_a_variable_missing_from_the_base_or_a_secret_in_a_config_map_fails(self):
        base = render(K8S / "base")
        variables = [Variable("MOTCUA_DATABASE_URL", True), Variable("MOTCUA_BRAND_NEW", False)]
        self.assertEqual(
            failures_mentioning(check_base(variables, base), "MOTCUA_BRAND_NEW"),
            [
                f"base: Deployment motcua-{s} does not receive MOTCUA_BRAND_NEW from its ConfigMaps"
                for s in ("intake", "signing", "receipt", "reporting")
            ],
        )
        leaky = copy.deepcopy(base)
        for obj in leaky:
            if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("motcua-common-config"):
                obj["data"]["MOTCUA_DATABASE_URL"] = "postgres://intake:hunter2@db/intake"
        self.assertTrue(failures_mentioning(check_base(variables, leaky), "holds MOTCUA_DATABASE_URL, a secret"))

    def test_a_service_variable_applies_to_its_service_only(self):
        base = render(K8S / "base")
        failures = failures_mentioning(
            check_base([Variable("MOTCUA_RECEIPT_SERIES", False)], base), "MOTCUA_RECEIPT_SERIES"
        )
        self.assertEqual(
            failures, ["base: Deployment motcua-receipt does not receive MOTCUA_RECEIPT_SERIES from its ConfigMaps"]
        )


class DockerAndCompose(unittest.TestCase):
    def test_a_dockerfile_that_runs_as_root_fails_on_every_rule_it_breaks(self):
        failures = check_dockerfile((FIXTURES / "Dockerfile.runs-as-root").read_text(), "fixture")
        for expected in (
            "'debian:latest' is not pinned",
            "ENV MOTCUA_DATABASE_URL would bake a secret",
            "a URL with a password",
            "HEALTHCHECK",
            "is not multi-stage",
        ):
            self.assertTrue(failures_mentioning(failures, expected), (expected, failures))
        two_stages = (
            (FIXTURES / "Dockerfile.runs-as-root")
            .read_text()
            .replace("FROM debian:latest", "FROM rust:1.95 AS b\nFROM debian:12")
        )
        failures = check_dockerfile(two_stages, "fixture")
        self.assertTrue(failures_mentioning(failures, "sets no USER, so the image runs as root"), failures)
        self.assertTrue(failures_mentioning(failures, "no exec-form ENTRYPOINT"), failures)

    def test_hadolint_runs_and_reports_what_it_finds(self):
        failures, _ = run_hadolint(FIXTURES / "Dockerfile.runs-as-root", "fixture")
        self.assertTrue(failures_mentioning(failures, "fixture:3: hadolint DL3007 warning"), failures)
        self.assertTrue(failures_mentioning(failures, "hadolint DL3025"), failures)
        self.assertEqual(run_hadolint(ROOT / "deploy/docker/Dockerfile"), ([], []))

    def test_pinned_means_a_digest_or_a_version_in_the_tag_and_a_moving_tag_is_noted(self):
        self.assertIsNone(base_image_problem("rust:1.95-bookworm"))
        self.assertIsNone(base_image_problem("gcr.io/distroless/cc-debian12@sha256:" + "0" * 64))
        # The digits of "debian12" are in the repository's name, not its tag: `debug` moves.
        self.assertIn("names no version", base_image_problem("gcr.io/distroless/cc-debian12:debug"))
        self.assertIn("malformed digest", base_image_problem("debian@sha256:abc"))
        dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
        self.assertTrue(failures_mentioning(moving_base_notes(dockerfile), "cc-debian12:nonroot' is a moving tag"))

    def test_a_dockerignore_that_lets_local_databases_in_fails(self):
        self.assertIn(".dockerignore: does not exclude **/*.db", check_dockerignore(".git\ntarget\n"))

    def test_a_compose_file_without_jaeger_fails(self):
        compose = yaml.safe_load((FIXTURES / "compose-missing-jaeger.yaml").read_text())
        failures = check_compose(compose, FIXTURES, "fixture")
        for expected in (
            "no service jaeger",
            "no service otel-collector",
            "intake runs as root",
            "intake does not set MOTCUA_DATABASE_URL",
            "signing is not built from deploy/docker/Dockerfile",
        ):
            self.assertTrue(failures_mentioning(failures, expected), (expected, failures))


class Collector(unittest.TestCase):
    def config(self) -> dict:
        return yaml.safe_load((K8S / "components/otel-collector/otelcol-config.yaml").read_text())

    def test_a_pipeline_without_attribute_deletion_fails(self):
        config = self.config()
        pipeline = config["service"]["pipelines"]["traces"]
        pipeline["processors"] = [p for p in pipeline["processors"] if not p.startswith("attributes")]
        self.assertTrue(failures_mentioning(check_collector(config), "no attributes processor"))

    def test_a_pattern_that_would_delete_server_address_fails(self):
        config = self.config()
        config["processors"]["attributes/drop_personal_data"]["actions"].append(
            {"pattern": "address", "action": "delete"}
        )
        self.assertTrue(failures_mentioning(check_collector(config), "'server.address' is needed"))

    def test_memory_limiter_must_come_first(self):
        config = self.config()
        config["service"]["pipelines"]["traces"]["processors"].reverse()
        self.assertTrue(failures_mentioning(check_collector(config), "memory_limiter is not the first"))


if __name__ == "__main__":
    unittest.main()
