"""What an agency's developer sets up before calling motcua from Python: client code generated from the
contracts in proto/ alone, and the real suite (`motcua up`) running on a loopback address of its own.

Nothing here comes from the Rust build except the `motcua` binary that is started as a process."""

import json
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
PROTO_ROOT = REPOSITORY / "proto"

# The four services and their fixed ports (`motcua up` has no port flags; each run gets its own
# loopback address instead, so a `make run` on 127.0.0.1 or another test's suite is not disturbed).
SERVICES = {
    "intake": ("motcua.intake.v1.IntakeService", 50051),
    "signing": ("motcua.signing.v1.SigningService", 50052),
    "receipt": ("motcua.receipt.v1.ReceiptService", 50053),
    "reporting": ("motcua.reporting.v1.ReportingService", 50054),
}

# Migrating four fresh SQLite files and reporting SERVING takes about a second; a slow machine gets more.
START_WAIT_SECONDS = 60
# What `motcua up` prints once every service is serving and its start-up work is done (the branches'
# receipt series opened); only from then on does it handle SIGTERM.
READY_LINE = "motcua is up"
# `motcua up` stops at once on SIGTERM (no drain on a laptop); in-flight calls may take a moment.
STOP_WAIT_SECONDS = 30


def generate_stubs(out_dir):
    """Generates Python messages and gRPC stubs for every .proto under proto/ into `out_dir` with
    grpcio-tools, and puts `out_dir` first on the import path. The well-known types come with
    grpcio-tools; google.rpc's status and error details come from googleapis-common-protos."""
    import grpc_tools

    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(path.relative_to(PROTO_ROOT)) for path in PROTO_ROOT.rglob("*.proto"))
    if not protos:
        raise RuntimeError(f"no .proto files under {PROTO_ROOT}")
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    result = subprocess.run(command, cwd=PROTO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed:\n{result.stdout}{result.stderr}")
    # First on the path, so that google.api and google.type resolve to the copies vendored in proto/
    # (google is a namespace package shared with googleapis-common-protos).
    sys.path.insert(0, str(out_dir))
    return protos


def motcua_binary():
    """The `motcua` binary cargo built: $MOTCUA_BIN, else `debug/motcua` in cargo's target directory."""
    explicit = os.environ.get("MOTCUA_BIN")
    if explicit:
        return pathlib.Path(explicit)
    metadata = subprocess.run(
        [os.environ.get("CARGO", "cargo"), "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    binary = pathlib.Path(json.loads(metadata.stdout)["target_directory"]) / "debug" / "motcua"
    if not binary.is_file():
        raise RuntimeError(f"{binary} does not exist: `make interop` builds it, or set MOTCUA_BIN")
    return binary


def free_loopback_host():
    """A random 127.x.y.z on which the four service ports are free (Linux routes all of 127/8 to lo)."""
    for _ in range(50):
        host = f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(2, 254)}"
        if all(_port_is_free(host, port) for _, port in SERVICES.values()):
            return host
    raise RuntimeError("no loopback address with ports 50051 to 50054 free was found")


def _port_is_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def channel(host, port):
    # No HTTP proxy from the environment for a loopback address.
    return grpc.insecure_channel(f"{host}:{port}", options=[("grpc.enable_http_proxy", 0)])


class Suite:
    """`motcua up` as a child process on fresh SQLite files in a temporary folder."""

    def __init__(self):
        self.host = free_loopback_host()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="motcua-interop-"))
        self.log_path = self.dir / "motcua-up.log"
        self.process = None

    def start(self):
        environment = {
            name: value
            for name, value in os.environ.items()
            # A fresh suite: no configuration or trace export leaks in from the caller's shell or CI.
            if not name.startswith(("MOTCUA_", "OTEL_"))
        }
        environment["MOTCUA_LOG_FORMAT"] = "json"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(motcua_binary()), "up", "--host", self.host, "--data-dir", str(self.dir / "data")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=environment,
            )
        self._wait_until_serving()

    def _wait_until_serving(self):
        """Until each service's health check answers SERVING and `motcua up` says it is up."""
        deadline = time.monotonic() + START_WAIT_SECONDS
        waiting = set(SERVICES) | {READY_LINE}
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(f"motcua up exited with {self.process.returncode}:\n{self.log_tail()}")
            for service in sorted(waiting & set(SERVICES)):
                grpc_name, port = SERVICES[service]
                with channel(self.host, port) as open_channel:
                    try:
                        answer = health_pb2_grpc.HealthStub(open_channel).Check(
                            health_pb2.HealthCheckRequest(service=grpc_name), timeout=1
                        )
                    except grpc.RpcError:
                        continue
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    waiting.discard(service)
            if READY_LINE in self.log_path.read_text(errors="replace"):
                waiting.discard(READY_LINE)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"not up within {START_WAIT_SECONDS} s: {sorted(waiting)}\n{self.log_tail()}")
            if waiting:
                time.sleep(0.2)

    def stop(self):
        """SIGTERM, as an orchestrator stops it; the exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
