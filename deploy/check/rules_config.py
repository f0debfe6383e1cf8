"""Compares the chassis's list of configuration variables with the base manifests and docs/operations.md.

services/chassis/src/config.rs's `VARIABLES` is the single source of truth. Each entry is read with a
regular expression (name and secret flag); a name given as an `ENV_*` constant is resolved through its
`pub const`. A variable named `MOTCUA_<SERVICE>_*` belongs to that service alone; every other one to all
four. In the rendered base, each service's Deployment must receive every variable that applies to it:
plain ones from its ConfigMaps, secret ones from a Secret (secretKeyRef) and never from a ConfigMap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from manifests import SERVICES, container_env_sources, find, pod_spec

CONST_PATTERN = re.compile(r'pub\s+const\s+(ENV_\w+)\s*:\s*&str\s*=\s*"([^"]+)"\s*;')
VARIABLES_BLOCK = re.compile(r"pub\s+const\s+VARIABLES\s*:\s*&\[Variable\]\s*=\s*&\[(.*?)\n\];", re.S)
ENTRY_START = re.compile(r"\bVariable\s*\{")
ENTRY_NAME = re.compile(r'\bname\s*:\s*(ENV_\w+|"[^"]+")')
ENTRY_SECRET = re.compile(r"\bsecret\s*:\s*(true|false)\b")


@dataclass(frozen=True)
class Variable:
    name: str
    secret: bool

    def service(self) -> str | None:
        """The one service the variable belongs to, or None when all four read it."""
        for service in SERVICES:
            if self.name.startswith(f"MOTCUA_{service.upper()}_"):
                return service
        return None


def parse_variables(config_rs: str) -> list[Variable]:
    """Reads the VARIABLES entries of config.rs; raises ValueError when their shape is not understood."""
    constants = dict(CONST_PATTERN.findall(config_rs))
    block = VARIABLES_BLOCK.search(config_rs)
    if not block:
        raise ValueError("no `pub const VARIABLES: &[Variable] = &[ ... ];` block found")
    body = block.group(1)
    starts = [match.start() for match in ENTRY_START.finditer(body)]
    if not starts:
        raise ValueError("VARIABLES has no `Variable { ... }` entries")
    variables = []
    for index, start in enumerate(starts):
        entry = body[start : starts[index + 1] if index + 1 < len(starts) else len(body)]
        name_match, secret_match = ENTRY_NAME.search(entry), ENTRY_SECRET.search(entry)
        if not name_match or not secret_match:
            raise ValueError(f"VARIABLES entry {index + 1} has no readable `name` or `secret`: {entry.strip()[:80]!r}")
        name = name_match.group(1)
        if name.startswith('"'):
            name = name.strip('"')
        elif name in constants:
            name = constants[name]
        else:
            raise ValueError(f"VARIABLES entry {index + 1} names {name}, which has no `pub const {name}: &str`")
        variables.append(Variable(name, secret_match.group(1) == "true"))
    return variables


def check_operations_guide(variables: list[Variable], guide: str) -> list[str]:
    """Every variable appears, in backticks, in docs/operations.md."""
    return [
        f"docs/operations.md: variable {variable.name} (chassis VARIABLES) is not documented as `{variable.name}`"
        for variable in variables
        if f"`{variable.name}`" not in guide
    ]


def check_base(variables: list[Variable], base: list[dict]) -> list[str]:
    """Each service's Deployment in the base gets every variable it reads, secrets from Secrets only."""
    failures = []
    secret_names = {variable.name for variable in variables if variable.secret}
    known = {variable.name for variable in variables}
    for config_map in find(base, "ConfigMap"):
        name = config_map["metadata"]["name"]
        for key in config_map.get("data") or {}:
            if key in secret_names:
                failures.append(f"base: ConfigMap {name} holds {key}, a secret: it belongs in a Secret")
            elif key.startswith("MOTCUA_") and key not in known:
                failures.append(f"base: ConfigMap {name} sets {key}, which the chassis's VARIABLES does not list")
    for service in SERVICES:
        deployment = find(base, "Deployment", f"motcua-{service}")
        if not deployment:
            failures.append(f"base: no Deployment motcua-{service}")
            continue
        sources = container_env_sources(base, pod_spec(deployment[0])["containers"][0])
        for variable in variables:
            if variable.service() not in (None, service):
                continue
            where = f"base: Deployment motcua-{service}"
            source = sources.get(variable.name)
            if source is None:
                kind = "a Secret (secretKeyRef)" if variable.secret else "its ConfigMaps"
                failures.append(f"{where} does not receive {variable.name} from {kind}")
            elif variable.secret and source != "secret":
                failures.append(f"{where} takes secret {variable.name} from a {source}, not from a Secret")
            elif not variable.secret and source not in ("configmap", "literal"):
                failures.append(
                    f"{where} takes {variable.name} from a {source}; plain settings belong in its ConfigMaps"
                )
        for job in find(base, "Job", f"motcua-{service}-migrate"):
            sources = container_env_sources(base, pod_spec(job)["containers"][0])
            if sources.get("MOTCUA_DATABASE_URL") != "secret":
                failures.append(f"base: Job motcua-{service}-migrate does not take MOTCUA_DATABASE_URL from a Secret")
    return failures
