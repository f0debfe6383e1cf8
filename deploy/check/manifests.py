"""Rendering kustomizations with `kubectl kustomize` and reading the objects that come out.

Shared by the rule modules: what motcua's four services are, where a workload keeps its pod spec, and
where each environment variable of a container comes from.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

SERVICES = ("intake", "signing", "receipt", "reporting")
PORTS = {"intake": 50051, "signing": 50052, "receipt": 50053, "reporting": 50054}
# Plaintext grpc.health.v1 only (MOTCUA_HEALTH_LISTEN_ADDR): kubelet's gRPC probes present no client certificate.
HEALTH_PORTS = {service: port + 1000 for service, port in PORTS.items()}
GRPC_SERVICE_NAMES = {
    "intake": "motcua.intake.v1.IntakeService",
    "signing": "motcua.signing.v1.SigningService",
    "receipt": "motcua.receipt.v1.ReceiptService",
    "reporting": "motcua.reporting.v1.ReportingService",
}
# Workloads that run until stopped, and therefore need liveness and readiness probes.
LONG_RUNNING_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")
WORKLOAD_KINDS = LONG_RUNNING_KINDS + ("Job", "CronJob")


class RenderError(Exception):
    """A kustomization that could not be rendered, with kubectl's own words."""


def kubectl() -> str:
    """The path of kubectl, or RenderError saying how to get it."""
    path = shutil.which("kubectl")
    if not path:
        raise RenderError(
            "kubectl is not on PATH: deploy-check renders the overlays with `kubectl kustomize`; "
            "install kubectl (the apt package `kubectl`, 1.27 or later) and run it again"
        )
    return path


def render(kustomization: Path) -> list[dict]:
    """The objects `kubectl kustomize <kustomization>` prints."""
    result = subprocess.run([kubectl(), "kustomize", str(kustomization)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {kustomization} failed: {result.stderr.strip()}")
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def describe(obj: dict) -> str:
    """`Kind name`, as the failure lines name an object."""
    return f"{obj.get('kind', '?')} {obj.get('metadata', {}).get('name', '?')}"


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    """The objects of `kind` (and `name`, when given)."""
    return [
        obj
        for obj in objects
        if obj.get("kind") == kind and (name is None or obj.get("metadata", {}).get("name") == name)
    ]


def pod_spec(obj: dict) -> dict:
    """The pod spec of a workload object."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj.get("spec", {})
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"].get("spec", {})
    return obj["spec"]["template"].get("spec", {})


def pod_labels(obj: dict) -> dict:
    """The labels of the pods a workload object makes."""
    if obj.get("kind") == "Pod":
        return obj.get("metadata", {}).get("labels", {})
    if obj.get("kind") == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"].get("metadata", {}).get("labels", {})
    return obj["spec"]["template"].get("metadata", {}).get("labels", {})


def all_containers(spec: dict) -> list[dict]:
    """Init and regular containers of a pod spec."""
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def container_env_sources(objects: list[dict], container: dict) -> dict[str, str]:
    """Where each environment variable of `container` comes from: configmap, secret, literal or field.

    Follows Kubernetes' precedence: a later envFrom source wins over an earlier one, and `env` over all.
    Keys of an envFrom Secret are known only when the Secret is in `objects`.
    """
    sources: dict[str, str] = {}
    for env_from in container.get("envFrom") or []:
        prefix = env_from.get("prefix", "")
        for kind, reference in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if reference in env_from:
                for source in find(objects, kind, env_from[reference].get("name")):
                    keys = list(source.get("data") or {}) + list(source.get("stringData") or {})
                    sources.update({prefix + key: kind.lower() for key in keys})
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") or {}
        if "secretKeyRef" in value_from:
            sources[variable["name"]] = "secret"
        elif "configMapKeyRef" in value_from:
            sources[variable["name"]] = "configmap"
        elif value_from:
            sources[variable["name"]] = "field"
        else:
            sources[variable["name"]] = "literal"
    return sources


def container_env_values(objects: list[dict], container: dict) -> dict[str, str]:
    """The values of the variables of `container` that come from ConfigMaps or literals."""
    values: dict[str, str] = {}
    for env_from in container.get("envFrom") or []:
        if "configMapRef" in env_from:
            prefix = env_from.get("prefix", "")
            for config_map in find(objects, "ConfigMap", env_from["configMapRef"].get("name")):
                values.update({prefix + key: value for key, value in (config_map.get("data") or {}).items()})
    for variable in container.get("env") or []:
        if "value" in variable:
            values[variable["name"]] = variable["value"]
        elif "configMapKeyRef" in (variable.get("valueFrom") or {}):
            reference = variable["valueFrom"]["configMapKeyRef"]
            for config_map in find(objects, "ConfigMap", reference.get("name")):
                if reference.get("key") in (config_map.get("data") or {}):
                    values[variable["name"]] = config_map["data"][reference["key"]]
        else:
            values.pop(variable["name"], None)
    return values
