"""The Dockerfile rules that matter, checked without hadolint (not installable from the registries here):
multi-stage, base images pinned to version tags, the service chosen by build argument SERVICE, a numeric
non-root user in the runtime stage, exec-form ENTRYPOINT (so SIGTERM reaches the service and starts its
drain), no HEALTHCHECK (Kubernetes probes ask grpc.health.v1), and no secrets in the image or the context.
"""

from __future__ import annotations

import json
import re

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL|DATABASE_URL)", re.I)
CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
SECRET_FILE = re.compile(r"(^|/)(\.env|id_rsa|id_ed25519|[^/\s]*\.pem|[^/\s]*\.key)$")
# What .dockerignore must keep out of the build context.
DOCKERIGNORE_REQUIRED = (".git", "target", ".tools", "data", "**/*.db", "**/.env", "**/*.pem", "**/*.key")


def instructions(dockerfile: str) -> list[tuple[int, str, str]]:
    """(line number, KEYWORD, arguments), continuation lines joined and comments dropped."""
    result, pending, start = [], "", 0
    for number, line in enumerate(dockerfile.splitlines(), start=1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, arguments = text.partition(" ")
        result.append((start, keyword.upper(), arguments.strip()))
    return result


def check_dockerfile(dockerfile: str, where: str = "deploy/docker/Dockerfile") -> list[str]:
    failures = []
    parsed = instructions(dockerfile)
    stages: list[list[tuple[int, str, str]]] = []
    aliases: set[str] = set()
    for line, keyword, arguments in parsed:
        if keyword == "FROM":
            stages.append([])
            words = [w for w in arguments.split() if not w.startswith("--")]
            image = words[0] if words else ""
            if len(words) >= 3 and words[1].upper() == "AS":
                aliases.add(words[2].lower())
            if image.lower() not in aliases:
                tag = image.rsplit("/", 1)[-1].partition(":")[2]
                if "$" in image or not tag or tag == "latest" or not re.search(r"\d", image):
                    failures.append(f"{where}:{line}: base image {image!r} is not pinned to a version tag")
        elif stages:
            stages[-1].append((line, keyword, arguments))
        if keyword == "HEALTHCHECK":
            failures.append(f"{where}:{line}: HEALTHCHECK: Kubernetes' gRPC probes check health, not the image")
        if keyword in ("ENV", "ARG"):
            for name in re.findall(
                r"([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", arguments.split(" ", 1)[0] if keyword == "ARG" else arguments
            ):
                if SECRET_NAME.search(name):
                    failures.append(f"{where}:{line}: {keyword} {name} would bake a secret into the image")
        if CREDENTIAL_URL.search(arguments):
            failures.append(f"{where}:{line}: a URL with a password")
        if keyword in ("COPY", "ADD"):
            for source in [w for w in arguments.split() if not w.startswith("--")][:-1]:
                if SECRET_FILE.search(source):
                    failures.append(f"{where}:{line}: {keyword} {source} copies a secret file into the image")
    if len(stages) < 2:
        failures.append(f"{where}: is not multi-stage (build, then a minimal runtime)")
        return failures
    if not any(keyword == "ARG" and arguments.split("=")[0] == "SERVICE" for _, keyword, arguments in stages[0]):
        failures.append(f"{where}: the build stage declares no ARG SERVICE choosing the service to build")
    runtime = stages[-1]
    users = [arguments for _, keyword, arguments in runtime if keyword == "USER"]
    if not users:
        failures.append(f"{where}: the runtime stage sets no USER, so the image runs as root")
    else:
        user = users[-1].split(":")[0]
        if not user.isdigit() or int(user) == 0:
            failures.append(f"{where}: the runtime stage's USER {users[-1]!r} is not a numeric non-root user")
    entrypoints = [arguments for _, keyword, arguments in runtime if keyword == "ENTRYPOINT"]
    try:
        exec_form = bool(entrypoints) and isinstance(json.loads(entrypoints[-1]), list)
    except json.JSONDecodeError:
        exec_form = False
    if not exec_form:
        failures.append(
            f'{where}: the runtime stage has no exec-form ENTRYPOINT ["..."] (a shell would swallow SIGTERM)'
        )
    return failures


def check_dockerignore(dockerignore: str | None, where: str = ".dockerignore") -> list[str]:
    if dockerignore is None:
        return [f"{where}: missing: the whole checkout, with target/ and local databases, would be the build context"]
    entries = {line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")}
    return [f"{where}: does not exclude {entry}" for entry in DOCKERIGNORE_REQUIRED if entry not in entries]
