"""Rules on the OpenTelemetry Collector configuration (components/otel-collector/otelcol-config.yaml):
the traces pipeline takes OTLP/gRPC on 4317, limits memory first, drops attributes that could carry personal
data, masks values that look like it, batches, and exports over OTLP.

The redaction patterns are Go RE2 expressions; the ones used stay within the syntax Python's `re` shares,
so they are tried here on keys that must go and keys that must stay.
"""

from __future__ import annotations

import re

# Attribute keys that may carry personal data: some delete pattern must match each.
PERSONAL_KEYS = (
    "applicant.full_name", "motcua.applicant.phone", "citizen_id", "identity_number", "cccd", "cmnd",
    "passport_no", "phone_number", "mobile", "email", "user.email", "user.name", "enduser.id",
    "full_name", "first_name", "ho_ten", "home_address", "dia_chi", "date_of_birth", "document_text",
    "extracted_text",
)  # fmt: skip
# Keys the runbook tells SREs to look for (docs/operations.md, "Read traces"): no pattern may match them.
KEPT_KEYS = (
    "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code", "server.address", "server.port",
    "client.address", "network.peer.address", "db.system", "db.operation", "db.statement", "db.name",
    "db.namespace", "motcua.dossier_code", "motcua.receipt_number", "motcua.job.kind", "error.type",
    "exception.message", "messaging.destination.name", "otel.status_code", "service.name",
)  # fmt: skip
# Values to mask under any key, and values that must pass.
PERSONAL_VALUES = ("079123456789", "0912345678", "+84912345678", "nguyen.van.a@example.vn")
KEPT_VALUES = ("000.00.01.H26-260101-0001", "4bf92f3577b34da6a3ce929d0e0e4736", "AA/26E 0000123", "50051")


def check_collector(config: dict) -> list[str]:
    failures = []
    where = "otel-collector config"
    pipeline = ((config.get("service") or {}).get("pipelines") or {}).get("traces")
    if not pipeline:
        return [f"{where}: has no traces pipeline"]
    receivers, processors, exporters = (pipeline.get(part) or [] for part in ("receivers", "processors", "exporters"))
    otlp = [r for r in receivers if r.split("/")[0] == "otlp"]
    grpc_endpoint = (
        str(
            ((((config.get("receivers") or {}).get(otlp[0]) or {}).get("protocols") or {}).get("grpc") or {}).get(
                "endpoint", ""
            )
        )
        if otlp
        else ""
    )
    if not grpc_endpoint.endswith(":4317"):
        failures.append(f"{where}: the traces pipeline has no OTLP/gRPC receiver on port 4317")
    if not processors or processors[0].split("/")[0] != "memory_limiter":
        failures.append(f"{where}: memory_limiter is not the first processor of the traces pipeline")
    definitions = config.get("processors") or {}
    delete_patterns = [
        action["pattern"]
        for name in processors
        if name.split("/")[0] == "attributes"
        for action in (definitions.get(name) or {}).get("actions") or []
        if action.get("action") in ("delete", "hash") and action.get("pattern")
    ]
    if not delete_patterns:
        failures.append(
            f"{where}: no attributes processor in the traces pipeline deletes or hashes attributes by pattern"
        )
    masks = [
        value
        for name in processors
        if name.split("/")[0] == "redaction"
        for value in (definitions.get(name) or {}).get("blocked_values") or []
    ]
    if not masks:
        failures.append(f"{where}: no redaction processor in the traces pipeline masks values (blocked_values)")
    delete_expressions, mask_expressions = [re.compile(p) for p in delete_patterns], [re.compile(p) for p in masks]
    for key in PERSONAL_KEYS:
        if delete_patterns and not any(expression.search(key) for expression in delete_expressions):
            failures.append(f"{where}: attribute {key!r} could carry personal data and no delete pattern matches it")
    for key in KEPT_KEYS:
        matching = [expression.pattern for expression in delete_expressions if expression.search(key)]
        if matching:
            failures.append(f"{where}: attribute {key!r} is needed to read traces but {matching[0]!r} deletes it")
    for value in PERSONAL_VALUES:
        if masks and not any(expression.search(value) for expression in mask_expressions):
            failures.append(f"{where}: value {value!r} looks like personal data and no blocked_values pattern masks it")
    for value in KEPT_VALUES:
        if any(expression.search(value) for expression in mask_expressions):
            failures.append(f"{where}: value {value!r} is not personal data but a blocked_values pattern masks it")
    batched = "batch" in [p.split("/")[0] for p in processors]
    for exporter in exporters:
        if exporter.split("/")[0] not in ("otlp", "otlp_grpc", "otlp_http", "otlphttp"):
            failures.append(f"{where}: exporter {exporter} is not an OTLP exporter")
        if not batched and "batch" not in (
            ((config.get("exporters") or {}).get(exporter) or {}).get("sending_queue") or {}
        ):
            failures.append(
                f"{where}: exporter {exporter} does not batch (sending_queue.batch) and no batch processor runs"
            )
    if not exporters:
        failures.append(f"{where}: the traces pipeline exports nowhere")
    if "health_check" not in ((config.get("service") or {}).get("extensions") or []):
        failures.append(f"{where}: the health_check extension that answers the pod's probes is off")
    return failures
