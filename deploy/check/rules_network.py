"""Evaluates the NetworkPolicies of a render and compares the service-to-service edges they open with the
architecture's: intake calls signing and receipt; receipt calls signing; reporting calls intake, signing and
receipt. Every service must also reach the collector's OTLP port, and PostgreSQL where the render has it.

The evaluation follows Kubernetes' semantics for pods of one namespace: a pod selected by no policy of a
direction is open in that direction; otherwise a connection needs a rule of some selecting policy that
matches the peer and the port. Peers outside the namespace (namespaceSelector, ipBlock) match pods of this
namespace only when they would match anything (`{}` or 0.0.0.0/0).
"""

from __future__ import annotations

from dataclasses import dataclass

from manifests import LONG_RUNNING_KINDS, SERVICES, describe, find, pod_labels, pod_spec

# (caller, callee) pairs the architecture allows between the four services.
ALLOWED_CALLS = {
    ("intake", "signing"),
    ("intake", "receipt"),
    ("receipt", "signing"),
    ("reporting", "intake"),
    ("reporting", "signing"),
    ("reporting", "receipt"),
}


@dataclass
class Pod:
    """A workload's pods as the policies see them: labels and named container ports."""

    name: str
    labels: dict
    ports: dict  # port name -> number


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A Kubernetes label selector against a set of labels; an empty selector matches everything."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def peer_matches(peer: dict, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return peer["ipBlock"].get("cidr") in ("0.0.0.0/0", "::/0")
    if "namespaceSelector" in peer and (peer["namespaceSelector"] or {}):
        # A selector naming labels picks other namespaces; this evaluation only sees its own.
        return False
    return selector_matches(peer.get("podSelector"), pod.labels)


def port_matches(rule_ports: list | None, pod: Pod, port: int) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        if rule_port.get("protocol", "TCP") != "TCP":
            continue
        number = rule_port.get("port")
        if number is None or number == port or pod.ports.get(number) == port:
            return True
        if isinstance(number, int) and rule_port.get("endPort") and number <= port <= rule_port["endPort"]:
            return True
    return False


def allowed(policies: list[dict], source: Pod, destination: Pod, port: int) -> bool:
    """Whether `source` may open a TCP connection to `destination` on `port`."""

    def direction_allows(direction: str, subject: Pod, peer: Pod) -> bool:
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        selecting = [
            p
            for p in policies
            if direction in (p["spec"].get("policyTypes") or ["Ingress"])
            and selector_matches(p["spec"].get("podSelector"), subject.labels)
        ]
        if not selecting:
            return True
        return any(
            (not rule.get(peers_key) or any(peer_matches(candidate, peer) for candidate in rule[peers_key]))
            and port_matches(rule.get("ports"), destination, port)
            for policy in selecting
            for rule in policy["spec"].get(key) or []
        )

    return direction_allows("Egress", source, destination) and direction_allows("Ingress", destination, source)


def pods_of(objects: list[dict]) -> dict[str, Pod]:
    pods = {}
    for workload in objects:
        if workload.get("kind") in LONG_RUNNING_KINDS:
            ports = {
                port["name"]: port["containerPort"]
                for container in pod_spec(workload).get("containers") or []
                for port in container.get("ports") or []
                if port.get("name")
            }
            pods[workload["metadata"]["name"]] = Pod(describe(workload), pod_labels(workload), ports)
    return pods


def check_network_policies(overlay: str, objects: list[dict]) -> list[str]:
    """The edges the policies open between the services are exactly the architecture's."""
    policies = find(objects, "NetworkPolicy")
    if not policies:
        return []
    failures = []
    pods = pods_of(objects)
    for pod in pods.values():
        for direction in ("Ingress", "Egress"):
            if not any(
                direction in (p["spec"].get("policyTypes") or ["Ingress"])
                and selector_matches(p["spec"].get("podSelector"), pod.labels)
                for p in policies
            ):
                failures.append(f"{overlay}: {pod.name} is selected by no {direction} policy (no default deny)")
    services = {service: pods.get(f"motcua-{service}") for service in SERVICES}
    for caller, caller_pod in services.items():
        if caller_pod is None:
            continue
        for callee, callee_pod in services.items():
            if callee_pod is None or callee == caller:
                continue
            is_open = allowed(policies, caller_pod, callee_pod, callee_pod.ports.get("grpc", 0))
            if is_open and (caller, callee) not in ALLOWED_CALLS:
                failures.append(
                    f"{overlay}: network policies let {caller} call {callee}, which the architecture does not allow"
                )
            if not is_open and (caller, callee) in ALLOWED_CALLS:
                failures.append(
                    f"{overlay}: network policies block {caller} from calling {callee}, which the architecture needs"
                )
        for target, port in (("otel-collector", 4317), ("motcua-postgres", 5432)):
            if target in pods and not allowed(policies, caller_pod, pods[target], port):
                failures.append(f"{overlay}: network policies block {caller} from reaching {target} on {port}")
    return failures
