"""The structure of deploy/compose/compose.yaml: the four services, PostgreSQL, the collector and Jaeger;
an image or build for each; the services built from deploy/docker/Dockerfile with their own SERVICE,
hardened as in Kubernetes, and given a database and the collector; every file they mount exists; and
each service has a caller identity it can start with: mutual TLS whose certificate, key, client CA and
policy files are mounted, or the development identity mode on a loopback address (server.rs,
`Security::from_config`: anything else exits with "no caller identity is configured").
"""

from __future__ import annotations

from pathlib import Path

from manifests import SERVICES
from rules_tls import FILE_VARIABLES, LOOPBACK_HOSTS, TLS_VARIABLES

REQUIRED = SERVICES + ("postgres", "otel-collector", "jaeger")


def volume_mounts(service: dict, compose_dir: Path) -> list[tuple[str, Path | None]]:
    """(target in the container, source on the host or None for a named volume) of every volume."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        else:
            source, target = volume.get("source", "") or "", volume.get("target", "") or ""
        host = compose_dir / source if source.startswith((".", "/")) else None
        mounts.append((target.rstrip("/") or "/", host))
    return mounts


def check_identity(name: str, environment: dict, service: dict, compose_dir: Path, where: str) -> list[str]:
    """Mutual TLS with every file it opens mounted from an existing host file, or dev mode on loopback."""
    tls_set = [variable for variable in TLS_VARIABLES if environment.get(variable)]
    if not tls_set:
        dev = str(environment.get("MOTCUA_DEV_IDENTITY", "")).lower() == "true"
        if dev and str(environment.get("MOTCUA_LISTEN_ADDR", "")).startswith(LOOPBACK_HOSTS):
            return []
        if dev:
            return [
                f"{where}: service {name} sets MOTCUA_DEV_IDENTITY=true on {environment.get('MOTCUA_LISTEN_ADDR')!r}, "
                "not a loopback address: the development identity mode refuses it"
            ]
        return [
            f"{where}: service {name} sets neither MOTCUA_TLS_CERT, MOTCUA_TLS_KEY and MOTCUA_TLS_CLIENT_CA nor "
            "MOTCUA_DEV_IDENTITY=true on a loopback address: it exits with 'no caller identity is configured'"
        ]
    failures = []
    if len(tls_set) != len(TLS_VARIABLES):
        missing = [variable for variable in TLS_VARIABLES if variable not in tls_set]
        failures.append(f"{where}: service {name} sets {', '.join(tls_set)} but not {', '.join(missing)}")
    if not environment.get("MOTCUA_POLICY_FILE"):
        failures.append(f"{where}: service {name} sets mutual TLS without MOTCUA_POLICY_FILE, which it requires")
    mounts = volume_mounts(service, compose_dir)
    for variable in FILE_VARIABLES:
        path = str(environment.get(variable) or "")
        if not path:
            continue
        holding = [
            (target, host) for target, host in mounts if path == target or path.startswith(target.rstrip("/") + "/")
        ]
        if not holding:
            failures.append(f"{where}: service {name} sets {variable}={path}, but mounts nothing there")
            continue
        # The innermost mount holds the file; a named volume (no host source) is taken on trust.
        target, host = max(holding, key=lambda mount: len(mount[0]))
        if host is not None and path != target:
            host = host / path[len(target) :].lstrip("/")
        if host is not None and not host.is_file():
            failures.append(f"{where}: service {name} sets {variable}={path}, but its host file {host} does not exist")
    return failures


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
        failures += check_identity(name, environment, service, compose_dir, where)
        for variable in ("MOTCUA_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            if not environment.get(variable):
                failures.append(f"{where}: service {name} does not set {variable}")
        if service.get("read_only") is not True or "ALL" not in (service.get("cap_drop") or []):
            failures.append(f"{where}: service {name} is not read_only with cap_drop [ALL]")
        if str(service.get("user", "")).split(":")[0] in ("", "0", "root"):
            failures.append(f"{where}: service {name} runs as root")
    return failures
