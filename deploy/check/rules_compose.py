"""The structure of deploy/compose/compose.yaml: the four services, PostgreSQL, the collector and Jaeger;
an image or build for each; the services built from deploy/docker/Dockerfile with their own SERVICE,
hardened as in Kubernetes, and given a database and the collector; every file they mount exists.
"""

from __future__ import annotations

from pathlib import Path

from manifests import SERVICES

REQUIRED = SERVICES + ("postgres", "otel-collector", "jaeger")


def check_compose(compose: object, compose_dir: Path, where: str = "deploy/compose/compose.yaml") -> list[str]:
    if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict):
        return [f"{where}: has no `services` mapping"]
    failures = []
    services = compose["services"]
    for name in REQUIRED:
        if name not in services:
            failures.append(f"{where}: has no service {name}")
    for name, service in services.items():
        if not isinstance(service, dict) or not (service.get("image") or service.get("build")):
            failures.append(f"{where}: service {name} has neither image nor build")
            continue
        for volume in service.get("volumes") or []:
            source = (volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")) or ""
            if source.startswith((".", "/")) and not (compose_dir / source).exists():
                failures.append(f"{where}: service {name} mounts {source}, which does not exist")
    for name in SERVICES:
        service = services.get(name)
        if not isinstance(service, dict):
            continue
        build = service.get("build") if isinstance(service.get("build"), dict) else {}
        dockerfile = (compose_dir / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve()
        if not dockerfile.is_file() or dockerfile.name != "Dockerfile" or dockerfile.parent.name != "docker":
            failures.append(f"{where}: service {name} is not built from deploy/docker/Dockerfile")
        if (build.get("args") or {}).get("SERVICE") != name:
            failures.append(f"{where}: service {name} does not build with SERVICE={name}")
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for variable in ("MOTCUA_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            if not environment.get(variable):
                failures.append(f"{where}: service {name} does not set {variable}")
        if service.get("read_only") is not True or "ALL" not in (service.get("cap_drop") or []):
            failures.append(f"{where}: service {name} is not read_only with cap_drop [ALL]")
        if str(service.get("user", "")).split(":")[0] in ("", "0", "root"):
            failures.append(f"{where}: service {name} runs as root")
    return failures
