"""Compares the configuration variables with the manifests, their env files and docs/operations.md.

Each variable is declared once, in a `variables!` list: the chassis's shared list
(services/chassis/src/config/shared.rs) and each service's own (services/<service>/src/settings.rs).
Together they are the single source of truth. Each entry is read with a regular expression (constant,
name, default, secret flag). A variable named `MOTCUA_<SERVICE>_*` belongs to that service alone and is
declared in its settings; every other one to all four. In the rendered base, each service's Deployment
must receive every variable that applies to it: plain ones from its ConfigMaps, secret ones from a Secret
(secretKeyRef) and never from a ConfigMap. Every env file under deploy/k8s and every service's
environment in compose.yaml set only listed variables, each on a service that reads it. The table of
docs/operations.md has one row per listed variable, with its secret flag and its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from manifests import SERVICES, container_env_sources, find, pod_spec

# Where each list is declared: None for the chassis's shared list, else the service that reads it alone.
SOURCES = {None: "services/chassis/src/config/shared.rs"} | {
    service: f"services/{service}/src/settings.rs" for service in SERVICES
}
LIST_BLOCK = re.compile(r"variables!\s*\{(.*?)\n\s*\];\s*\n\}", re.S)
ENTRY = re.compile(
    r'\b(ENV_\w+)\s*\{\s*name:\s*"([^"]+)",\s*default:\s*"((?:[^"\\]|\\.)*)",\s*secret:\s*(true|false),'
    r"\s*description:",
    re.S,
)
ENTRY_START = re.compile(r"\bENV_\w+\s*\{")
TABLE_ROW = re.compile(r"^\|\s*`((?:MOTCUA|OTEL)_[A-Z0-9_]+)`\s*\|([^|]*)\|\s*(yes|no)\s*\|", re.M)


@dataclass(frozen=True)
class Variable:
    name: str
    secret: bool
    default: str = ""

    def service(self) -> str | None:
        """The one service the variable belongs to, or None when all four read it."""
        for service in SERVICES:
            if self.name.startswith(f"MOTCUA_{service.upper()}_"):
                return service
        return None


def parse_variables(source: str) -> list[Variable]:
    """Reads the entries of one `variables!` list; raises ValueError when their shape is not understood."""
    block = LIST_BLOCK.search(source)
    if not block:
        raise ValueError("no `variables! { ... }` list found")
    body = block.group(1)
    starts = [match.start() for match in ENTRY_START.finditer(body)]
    if not starts:
        raise ValueError("the variables! list has no `ENV_* { ... }` entries")
    variables = []
    for index, start in enumerate(starts):
        entry = body[start : starts[index + 1] if index + 1 < len(starts) else len(body)]
        match = ENTRY.match(entry)
        if not match:
            raise ValueError(f"variables! entry {index + 1} is not `ENV_* {{ name, default, secret, description }}`: "
                             f"{entry.strip()[:80]!r}")
        variables.append(Variable(match.group(2), match.group(4) == "true", match.group(3).replace('\\"', '"')))
    return variables


def read_variables(root: Path) -> tuple[list[Variable], list[str]]:
    """Every list, concatenated, and the failures of a list that cannot be read or declares a variable
    of another service."""
    variables, failures = [], []
    for owner, path in SOURCES.items():
        try:
            declared = parse_variables((root / path).read_text())
        except (OSError, ValueError) as error:
            failures.append(f"{path}: cannot read its variables: {error}")
            continue
        for variable in declared:
            if variable.service() != owner:
                belongs = f"{variable.service()}'s settings" if variable.service() else "the chassis's shared list"
                failures.append(f"{path}: {variable.name} belongs in {belongs}")
        variables += declared
    names = [variable.name for variable in variables]
    failures += [f"{name} is declared more than once" for name in sorted({n for n in names if names.count(n) > 1})]
    return variables, failures


def check_operations_guide(variables: list[Variable], guide: str) -> list[str]:
    """docs/operations.md's table has one row per variable, with its secret flag and its default (a
    default in `<angle brackets>` is a note, not checked; an empty one reads "empty" or "unset")."""
    rows = {name: (default_cell.strip(), secret) for name, default_cell, secret in TABLE_ROW.findall(guide)}
    known = {variable.name for variable in variables}
    failures = [
        f"docs/operations.md: the variables table lists {name}, which no variables! list declares"
        for name in rows
        if name not in known
    ]
    for variable in variables:
        row = rows.get(variable.name)
        if row is None:
            failures.append(
                f"docs/operations.md: variable {variable.name} has no row `{variable.name}` in the variables table"
            )
            continue
        default_cell, secret = row
        if (secret == "yes") != variable.secret:
            failures.append(
                f"docs/operations.md: {variable.name} is {'a' if variable.secret else 'not a'} secret, the table says {secret}"
            )
        if variable.default.startswith("<"):
            continue
        if not variable.default and not default_cell.startswith(("empty", "unset")):
            failures.append(f"docs/operations.md: {variable.name} has no default; its row says {default_cell!r}")
        elif variable.default and f"`{variable.default}`" not in default_cell:
            failures.append(
                f"docs/operations.md: {variable.name} defaults to `{variable.default}`; its row says {default_cell!r}"
            )
    return failures


def check_env_settings(variables: list[Variable], settings: dict[str, dict], where: str) -> list[str]:
    """Each service (or None for settings every service gets) sets only listed variables that it reads."""
    by_name = {variable.name: variable for variable in variables}
    failures = []
    for service, values in settings.items():
        for key in values or {}:
            if not key.startswith(("MOTCUA_", "OTEL_")):
                continue
            variable = by_name.get(key)
            if variable is None:
                failures.append(f"{where}: sets {key}, which no variables! list declares")
            elif variable.service() not in (None, service):
                failures.append(f"{where}: sets {key} for {service or 'every service'}, but only {variable.service()} reads it")
    return failures


def read_env_file(text: str) -> dict[str, str]:
    """The KEY=value lines of a kustomize env file."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def check_env_files(variables: list[Variable], k8s: Path) -> list[str]:
    """Every env file under deploy/k8s: `<service>.env` is that service's, any other one every service's."""
    failures = []
    for path in sorted(k8s.rglob("*.env")):
        service = path.stem if path.stem in SERVICES else None
        where = str(path.relative_to(k8s.parent.parent))
        failures += check_env_settings(variables, {service: read_env_file(path.read_text())}, where)
    return failures


def check_compose_environment(variables: list[Variable], compose: dict, where: str) -> list[str]:
    """The environment compose.yaml gives each of the four services."""
    services = (compose or {}).get("services") or {}
    settings = {name: (services.get(name) or {}).get("environment") or {} for name in SERVICES}
    return check_env_settings(variables, settings, where)


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
                failures.append(f"base: ConfigMap {name} sets {key}, which no variables! list declares")
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
