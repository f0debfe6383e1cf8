"""Rules on how the services identify their callers, on the rendered objects of an overlay.

A service refuses to start unless it can read the files its MOTCUA_TLS_CERT, MOTCUA_TLS_KEY,
MOTCUA_TLS_CLIENT_CA, MOTCUA_POLICY_FILE and (when set) MOTCUA_TLS_CLIENT_CRL name
(services/chassis/src/server.rs, `Security::from_config`),
so every serving container that is given those paths must have a volume mounted where they point. And an
overlay's policy may add identities to the base's, but must not change what the base grants, and what it
adds may only read (the dev overlay's trial operator, deploy/trial-tls/policy.yaml).
"""

from __future__ import annotations

import posixpath
import re

import yaml

from manifests import SERVICES, all_containers, container_env_values, describe, find, pod_spec
from rules_manifests import workloads

# The files a serving container opens at start-up when these are set.
FILE_VARIABLES = (
    "MOTCUA_TLS_CERT",
    "MOTCUA_TLS_KEY",
    "MOTCUA_TLS_CLIENT_CA",
    "MOTCUA_POLICY_FILE",
    "MOTCUA_TLS_CLIENT_CRL",
)
TLS_VARIABLES = FILE_VARIABLES[:3]
# `motcua-<service> migrate` parses the paths but opens none of them: it applies migrations and exits.
NON_SERVING_ARGS = (["migrate"],)
# What a granted RPC that only reads looks like: `package.Service/` then Get, List, Lookup or Verify.
READ_ONLY_RPC = re.compile(r"^[a-z0-9_.]+\.[A-Z]\w*/(Get|List|Lookup|Verify)[A-Z]\w*$")
POLICY_CONFIG_MAP = "motcua-policy"
LOOPBACK_HOSTS = ("127.", "[::1]", "localhost")
POLICY_KEY = "policy.yaml"


def mounted_at(path: str, container: dict, volumes: set[str]) -> dict | None:
    """The volumeMount of `container` that holds `path` (its directory, a parent, or the file itself)."""
    for mount in container.get("volumeMounts") or []:
        if mount.get("name") not in volumes:
            continue
        mount_path = mount.get("mountPath", "").rstrip("/") or "/"
        if mount_path == "/" or path == mount_path or path.startswith(mount_path + "/"):
            return mount
    return None


def check_tls_mounts(overlay: str, objects: list[dict]) -> list[str]:
    """Every serving container given a TLS or policy path has a volume mounted at that path's directory,
    and each service's Deployment has a caller identity: mutual TLS, or the development mode on loopback."""
    failures = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        volumes = {volume.get("name") for volume in spec.get("volumes") or []}
        for container in all_containers(spec):
            if container.get("args") in NON_SERVING_ARGS:
                continue
            at = f"{overlay}: {describe(workload)}: container {container['name']}"
            values = container_env_values(objects, container)
            tls_set = [name for name in TLS_VARIABLES if values.get(name)]
            if tls_set and len(tls_set) != len(TLS_VARIABLES):
                missing = [name for name in TLS_VARIABLES if name not in tls_set]
                failures.append(
                    f"{at}: sets {', '.join(tls_set)} but not {', '.join(missing)}: mutual TLS needs all three"
                )
            if (
                not tls_set
                and workload.get("metadata", {}).get("name") in {f"motcua-{service}" for service in SERVICES}
                and not (
                    values.get("MOTCUA_DEV_IDENTITY", "").lower() == "true"
                    and values.get("MOTCUA_LISTEN_ADDR", "").startswith(LOOPBACK_HOSTS)
                )
            ):
                failures.append(
                    f"{at}: sets neither MOTCUA_TLS_CERT, MOTCUA_TLS_KEY and MOTCUA_TLS_CLIENT_CA nor "
                    "MOTCUA_DEV_IDENTITY=true on a loopback MOTCUA_LISTEN_ADDR: it exits with "
                    "'no caller identity is configured'"
                )
            if tls_set and not values.get("MOTCUA_POLICY_FILE"):
                failures.append(f"{at}: sets mutual TLS without MOTCUA_POLICY_FILE, which the services require with it")
            for name in FILE_VARIABLES:
                path = values.get(name)
                if not path:
                    continue
                if not path.startswith("/"):
                    failures.append(f"{at}: {name}={path} is not an absolute path")
                elif mounted_at(path, container, volumes) is None:
                    failures.append(
                        f"{at}: {name}={path}, but no volume is mounted at {posixpath.dirname(path)}: "
                        "the service exits at start-up, unable to read it"
                    )
    return failures


def policy_of(objects: list[dict]) -> tuple[dict | None, str | None]:
    """The identities of the rendered ConfigMap motcua-policy, or (None, why not)."""
    config_maps = find(objects, "ConfigMap", POLICY_CONFIG_MAP)
    if not config_maps:
        return None, f"no ConfigMap {POLICY_CONFIG_MAP}"
    text = (config_maps[0].get("data") or {}).get(POLICY_KEY)
    if text is None:
        return None, f"ConfigMap {POLICY_CONFIG_MAP} has no key {POLICY_KEY}"
    try:
        identities = (yaml.safe_load(text) or {}).get("identities")
    except yaml.YAMLError as error:
        return None, f"ConfigMap {POLICY_CONFIG_MAP}: {POLICY_KEY} is not YAML: {error}"
    if not isinstance(identities, dict):
        return None, f"ConfigMap {POLICY_CONFIG_MAP}: {POLICY_KEY} has no `identities` mapping"
    return identities, None


def check_policy(overlay: str, objects: list[dict], base_identities: dict) -> list[str]:
    """The overlay's policy grants every base identity exactly what the base does; an identity it adds
    may call only read RPCs (Get*, List*, Lookup*, Verify*), no wildcard."""
    identities, problem = policy_of(objects)
    if identities is None:
        return [f"{overlay}: {problem}"]
    failures = []
    for name, grant in base_identities.items():
        if name not in identities:
            failures.append(f"{overlay}: policy drops identity {name}, which the base grants")
        elif identities[name] != grant:
            failures.append(f"{overlay}: policy changes what the base grants {name}")
    for name in sorted(set(identities) - set(base_identities)):
        grant = identities[name] if isinstance(identities[name], dict) else {}
        for rpc in grant.get("rpcs") or []:
            if not READ_ONLY_RPC.match(str(rpc)):
                failures.append(
                    f"{overlay}: policy lets {name}, an identity the base does not have, call {rpc}, "
                    "which is not a read-only RPC (Get*, List*, Lookup*, Verify*)"
                )
    return failures
