"""Rules on the rendered objects of an overlay: what every container must have, what each motcua service
must look like, that every referenced Secret and ConfigMap exists, and what each overlay promises.

Every function returns failure lines, `<overlay>: <object>: <what is wrong>`; none means the rule holds.
"""

from __future__ import annotations

import re

from manifests import (
    GRPC_SERVICE_NAMES,
    LONG_RUNNING_KINDS,
    HEALTH_PORTS,
    PORTS,
    SERVICES,
    WORKLOAD_KINDS,
    all_containers,
    container_env_values,
    describe,
    find,
    pod_spec,
)

# The chassis's defaults, used when a manifest does not set them (services/chassis/src/config.rs).
DEFAULT_DRAIN_MS = 5000
DEFAULT_GRACE_MS = 10000
SECRET_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL|DATABASE_URL)", re.I)
CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def workloads(objects: list[dict]) -> list[dict]:
    return [obj for obj in objects if obj.get("kind") in WORKLOAD_KINDS]


def check_containers(overlay: str, objects: list[dict]) -> list[str]:
    """Every container: probes (long-running workloads), requests and limits, non-root, read-only root."""
    failures = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        where = f"{overlay}: {describe(workload)}"
        pod_security = spec.get("securityContext") or {}
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host_namespace):
                failures.append(f"{where}: pod sets {host_namespace}: true")
        init_names = {container["name"] for container in spec.get("initContainers") or []}
        for container in all_containers(spec):
            at = f"{where}: container {container['name']}"
            security = container.get("securityContext") or {}
            if workload["kind"] in LONG_RUNNING_KINDS and container["name"] not in init_names:
                for probe in ("livenessProbe", "readinessProbe"):
                    if not container.get(probe):
                        failures.append(f"{at}: has no {probe}")
            resources = container.get("resources") or {}
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(bound) or {}).get(resource):
                        failures.append(f"{at}: has no resources.{bound}.{resource}")
            run_as_non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
            run_as_user = security.get("runAsUser", pod_security.get("runAsUser"))
            if run_as_non_root is not True:
                failures.append(f"{at}: may run as root: runAsNonRoot is not true (pod or container)")
            if run_as_user == 0:
                failures.append(f"{at}: runs as root: runAsUser is 0")
            if security.get("readOnlyRootFilesystem") is not True:
                failures.append(f"{at}: readOnlyRootFilesystem is not true")
            if security.get("privileged") is True:
                failures.append(f"{at}: is privileged")
            if security.get("allowPrivilegeEscalation") is not False:
                failures.append(f"{at}: allowPrivilegeEscalation is not false")
            capabilities = security.get("capabilities") or {}
            if "ALL" not in (capabilities.get("drop") or []):
                failures.append(f"{at}: does not drop ALL capabilities")
            if capabilities.get("add"):
                failures.append(f"{at}: adds capabilities {capabilities['add']}")
            seccomp = (security.get("seccompProfile") or pod_security.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                failures.append(f"{at}: seccompProfile is not RuntimeDefault")
            image = container.get("image", "")
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if "@" not in image and tag in ("", "latest"):
                failures.append(f"{at}: image {image!r} is not pinned to a version tag")
    return failures


def secret_references(objects: list[dict]) -> list[tuple[str, str, str | None]]:
    """(who, Secret name, key or None) for every Secret a workload names."""
    references = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        who = describe(workload)
        for pull_secret in spec.get("imagePullSecrets") or []:
            references.append((who, pull_secret["name"], None))
        for volume in spec.get("volumes") or []:
            if "secret" in volume:
                items = volume["secret"].get("items") or [{}]
                references += [(who, volume["secret"].get("secretName"), item.get("key")) for item in items]
            for source in (volume.get("projected") or {}).get("sources") or []:
                if "secret" in source:
                    items = source["secret"].get("items") or [{}]
                    references += [(who, source["secret"].get("name"), item.get("key")) for item in items]
        for container in all_containers(spec):
            for env_from in container.get("envFrom") or []:
                if "secretRef" in env_from:
                    references.append((who, env_from["secretRef"].get("name"), None))
            for variable in container.get("env") or []:
                reference = (variable.get("valueFrom") or {}).get("secretKeyRef")
                if reference:
                    references.append((who, reference.get("name"), reference.get("key")))
    return references


def config_map_references(objects: list[dict]) -> list[tuple[str, str, str | None]]:
    """(who, ConfigMap name, key or None) for every ConfigMap a workload names."""
    references = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        who = describe(workload)
        for volume in spec.get("volumes") or []:
            if "configMap" in volume:
                references.append((who, volume["configMap"].get("name"), None))
        for container in all_containers(spec):
            for env_from in container.get("envFrom") or []:
                if "configMapRef" in env_from:
                    references.append((who, env_from["configMapRef"].get("name"), None))
            for variable in container.get("env") or []:
                reference = (variable.get("valueFrom") or {}).get("configMapKeyRef")
                if reference:
                    references.append((who, reference.get("name"), reference.get("key")))
    return references


def check_references(overlay: str, objects: list[dict], external_secrets: dict[str, set[str]]) -> list[str]:
    """Every referenced Secret exists in the render or is declared external (with the key read)."""
    failures = []
    rendered_secrets = {
        secret["metadata"]["name"]: set(secret.get("data") or {}) | set(secret.get("stringData") or {})
        for secret in find(objects, "Secret")
    }
    used_external = set()
    for who, name, key in secret_references(objects):
        if name in rendered_secrets:
            if key is not None and key not in rendered_secrets[name]:
                failures.append(f"{overlay}: {who}: reads key {key} of Secret {name}, which has no such key")
        elif name in external_secrets:
            used_external.add(name)
            if key is not None and key not in external_secrets[name]:
                failures.append(
                    f"{overlay}: {who}: reads key {key} of external Secret {name}, "
                    f"which external-secrets.yaml declares with keys {sorted(external_secrets[name])}"
                )
        else:
            failures.append(
                f"{overlay}: {who}: refers to Secret {name}, which is neither in the render "
                "nor listed in the overlay's external-secrets.yaml"
            )
    for name in sorted(set(external_secrets) - used_external):
        failures.append(f"{overlay}: external-secrets.yaml lists Secret {name}, which nothing refers to")
    rendered_config_maps = {cm["metadata"]["name"]: set(cm.get("data") or {}) for cm in find(objects, "ConfigMap")}
    for who, name, key in config_map_references(objects):
        if name not in rendered_config_maps:
            failures.append(f"{overlay}: {who}: refers to ConfigMap {name}, which is not in the render")
        elif key is not None and key not in rendered_config_maps[name]:
            failures.append(f"{overlay}: {who}: reads key {key} of ConfigMap {name}, which has no such key")
    return failures


def check_config_maps(overlay: str, objects: list[dict]) -> list[str]:
    """No ConfigMap carries what belongs in a Secret: a secret-looking key or a URL with a password."""
    failures = []
    for config_map in find(objects, "ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            if SECRET_KEY.search(key):
                failures.append(f"{overlay}: {describe(config_map)}: key {key} belongs in a Secret")
            if CREDENTIAL_URL.search(str(value)):
                failures.append(f"{overlay}: {describe(config_map)}: {key} holds a URL with a password")
    return failures



PEER_URL = re.compile(r"^https?://([^/:]+)(?::(\d+))?")


def check_peer_urls(overlay: str, objects: list[dict]) -> list[str]:
    """Every peer URL in a ConfigMap (`MOTCUA_*_URL`) names a Service of the render and one of its ports.

    Public addresses (`MOTCUA_*_PUBLIC_BASE_URL`, printed in QR codes for citizens) are not peers."""
    failures = []
    ports = {
        service["metadata"]["name"]: {port.get("port") for port in (service.get("spec") or {}).get("ports") or []}
        for service in find(objects, "Service")
    }
    for config_map in find(objects, "ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            if not (key.startswith("MOTCUA_") and key.endswith("_URL")) or key == "MOTCUA_DATABASE_URL":
                continue
            if key.endswith("_PUBLIC_BASE_URL"):
                continue
            match = PEER_URL.match(str(value))
            if not match:
                continue
            host, port = match.group(1), match.group(2)
            service = host.split(".")[0]
            if service not in ports:
                failures.append(f"{overlay}: {describe(config_map)}: {key} points at {host}, which is no Service of the render")
            elif port is not None and int(port) not in ports[service]:
                failures.append(f"{overlay}: {describe(config_map)}: {key} points at port {port}, which Service {service} does not expose")
    return failures

def grpc_probe(container: dict, probe: str) -> dict:
    return ((container.get(probe) or {}).get("grpc")) or {}


def check_services(overlay: str, objects: list[dict]) -> list[str]:
    """What each of the four services must look like, whatever the overlay."""
    failures = []
    for service in SERVICES:
        name = f"motcua-{service}"
        deployments = find(objects, "Deployment", name)
        if not deployments:
            failures.append(f"{overlay}: no Deployment {name}")
            continue
        where = f"{overlay}: Deployment {name}"
        spec = pod_spec(deployments[0])
        containers = spec.get("containers") or []
        if len(containers) != 1:
            failures.append(f"{where}: has {len(containers)} containers, not one")
            continue
        container = containers[0]
        port = PORTS[service]
        if {"name": "grpc", "containerPort": port} not in [
            {"name": p.get("name"), "containerPort": p.get("containerPort")} for p in container.get("ports") or []
        ]:
            failures.append(f"{where}: has no container port named grpc on {port}")
        for probe, health_service in (
            ("startupProbe", ""),
            ("livenessProbe", ""),
            ("readinessProbe", GRPC_SERVICE_NAMES[service]),
        ):
            grpc = grpc_probe(container, probe)
            if not grpc:
                failures.append(f"{where}: {probe} is not a native gRPC probe")
            elif grpc.get("port") != HEALTH_PORTS[service] or grpc.get("service", "") != health_service:
                failures.append(
                    f"{where}: {probe} asks port {grpc.get('port')} service {grpc.get('service', '')!r}, "
                    f"not port {HEALTH_PORTS[service]} service {health_service!r}"
                )
        values = container_env_values(objects, container)
        drain = int(values.get("MOTCUA_SHUTDOWN_DRAIN_MS") or DEFAULT_DRAIN_MS)
        grace = int(values.get("MOTCUA_SHUTDOWN_GRACE_MS") or DEFAULT_GRACE_MS)
        termination = spec.get("terminationGracePeriodSeconds", 30)
        if termination * 1000 <= drain + grace:
            failures.append(
                f"{where}: terminationGracePeriodSeconds {termination} s does not exceed "
                f"MOTCUA_SHUTDOWN_DRAIN_MS + MOTCUA_SHUTDOWN_GRACE_MS ({drain + grace} ms)"
            )
        if values.get("MOTCUA_MIGRATE_ON_START") != "false":
            failures.append(f'{where}: MOTCUA_MIGRATE_ON_START is not "false" (the migrate Job migrates)')
        tmp_volumes = {v["name"] for v in spec.get("volumes") or [] if "emptyDir" in v}
        if not any(
            m.get("mountPath") == "/tmp" and m.get("name") in tmp_volumes for m in container.get("volumeMounts") or []
        ):
            failures.append(f"{where}: has no emptyDir mounted at /tmp")
        account = spec.get("serviceAccountName")
        accounts = find(objects, "ServiceAccount", account) if account else []
        if not accounts:
            failures.append(f"{where}: its ServiceAccount {account!r} is not in the render")
        elif (
            spec.get("automountServiceAccountToken") is not False
            and accounts[0].get("automountServiceAccountToken") is not False
        ):
            failures.append(f"{where}: mounts a service account token it never uses")
        kubernetes_service = find(objects, "Service", name)
        if not kubernetes_service or "grpc" not in [
            p.get("name") for p in kubernetes_service[0]["spec"].get("ports") or []
        ]:
            failures.append(f"{overlay}: no Service {name} with a port named grpc")
        if not find(objects, "PodDisruptionBudget", name):
            failures.append(f"{overlay}: no PodDisruptionBudget {name}")
        autoscalers = [
            h for h in find(objects, "HorizontalPodAutoscaler", name) if h.get("apiVersion") == "autoscaling/v2"
        ]
        if not autoscalers or autoscalers[0]["spec"]["scaleTargetRef"].get("name") != name:
            failures.append(f"{overlay}: no autoscaling/v2 HorizontalPodAutoscaler scaling Deployment {name}")
        jobs = find(objects, "Job", f"{name}-migrate")
        if not jobs:
            failures.append(f"{overlay}: no migrate Job {name}-migrate")
        else:
            job_container = pod_spec(jobs[0])["containers"][0]
            if job_container.get("args") != ["migrate"] or job_container.get("image") != container.get("image"):
                failures.append(f"{overlay}: Job {name}-migrate does not run `migrate` with the Deployment's image")
    return failures


def anti_affinity_hostname(spec: dict) -> bool:
    anti_affinity = (spec.get("affinity") or {}).get("podAntiAffinity") or {}
    terms = list(anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
    terms += [
        t.get("podAffinityTerm", {}) for t in anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    ]
    return any(term.get("topologyKey") == "kubernetes.io/hostname" for term in terms)


def check_overlay_promises(overlay: str, objects: list[dict]) -> list[str]:
    """What issue 7 promises of each overlay: dev is small and self-contained, production spread and locked down."""
    failures = []
    autoscalers = {service: find(objects, "HorizontalPodAutoscaler", f"motcua-{service}") for service in SERVICES}
    if overlay == "dev":
        for service, found in autoscalers.items():
            if found and (found[0]["spec"].get("minReplicas"), found[0]["spec"].get("maxReplicas")) != (1, 1):
                failures.append(f"dev: motcua-{service} does not run exactly one replica")
        for kind, name in (
            ("StatefulSet", "motcua-postgres"),
            ("Deployment", "otel-collector"),
            ("Deployment", "jaeger"),
        ):
            if not find(objects, kind, name):
                failures.append(f"dev: no {kind} {name} (postgres and otel-collector components, Jaeger)")
    if overlay == "production":
        for service, found in autoscalers.items():
            if found and (found[0]["spec"].get("minReplicas") or 1) < 3:
                failures.append(f"production: motcua-{service} may run fewer than three replicas")
        for service in SERVICES:
            for deployment in find(objects, "Deployment", f"motcua-{service}"):
                spec = pod_spec(deployment)
                if not anti_affinity_hostname(spec):
                    failures.append(f"production: Deployment motcua-{service} has no pod anti-affinity across nodes")
                tls_volumes = {
                    v["name"]
                    for v in spec.get("volumes") or []
                    if (v.get("secret") or {}).get("secretName") == f"motcua-{service}-tls"
                }
                mounts = spec["containers"][0].get("volumeMounts") or []
                if not any(m.get("mountPath") == "/etc/motcua/tls" and m.get("name") in tls_volumes for m in mounts):
                    failures.append(
                        f"production: Deployment motcua-{service} does not mount "
                        f"Secret motcua-{service}-tls at /etc/motcua/tls"
                    )
        if not find(objects, "NetworkPolicy"):
            failures.append("production: no NetworkPolicy (the network-policies component is off)")
        if not find(objects, "Deployment", "otel-collector"):
            failures.append("production: no Deployment otel-collector (the otel-collector component is off)")
    return failures
