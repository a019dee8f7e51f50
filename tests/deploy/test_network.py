"""The NetworkPolicies, evaluated: who can open a connection to whom, on port 8000.

A connection needs an Ingress rule on the receiving pod and an Egress rule
on the sending one, since the namespace denies both by default. Expected:

- the ingress controller -> every service;
- mini_auth -> mini_user, mini_billing; mini_order -> mini_billing, mini_user, mini_notif;
- nothing else: no other service pair, no other namespace;
- every pod -> DNS, PostgreSQL and Redis (by the overlay's addresses).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.deploy.support import CALLS, OVERLAYS, SERVICES, named, namespace, objects

PORT = 8000
INGRESS_NS = "ingress-nginx"
CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "mini-ingress",
}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(hash=False)
    ip: str = ""


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_ns: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        if not pod.ip:
            return False
        block = peer["ipBlock"]
        address = ipaddress.ip_address(pod.ip)
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    ns_labels = {"kubernetes.io/metadata.name": pod.namespace}
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], ns_labels):
            return False
    elif pod.namespace != policy_ns:
        return False
    return _selects(peer.get("podSelector"), pod.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(
        p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports
    )


def _allows(policies, direction: str, subject: Pod, other: Pod, port: int, protocol: str) -> bool:
    """Whether `subject`'s policies let a connection in from / out to `other`."""
    kind, rules_key, peers_key = {
        "in": ("Ingress", "ingress", "from"),
        "out": ("Egress", "egress", "to"),
    }[direction]
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and kind in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"]["podSelector"], subject.labels)
    ]
    if not selecting:
        return True  # no policy isolates the pod in this direction
    for policy in selecting:
        for rule in policy["spec"].get(rules_key, []):
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(peer, policy["metadata"]["namespace"], other) for peer in peers
            )
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def connects(policies, source: Pod, target: Pod, port: int = PORT, protocol: str = "TCP") -> bool:
    # Pods of other namespaces are not isolated by these policies: only their target's apply.
    outbound = _allows(policies, "out", source, target, port, protocol)
    return outbound and _allows(policies, "in", target, source, port, protocol)


def _pods(overlay: str) -> dict[str, Pod]:
    """The pods of the overlay by short name (their template labels), and some outsiders."""
    ns = namespace(overlay)
    pods = {
        short: Pod(
            ns,
            named(overlay, "Deployment", f"mini-{short}")["spec"]["template"]["metadata"]["labels"],
        )
        for short in SERVICES
    }
    pods["controller"] = Pod(INGRESS_NS, CONTROLLER_LABELS)
    pods["other-controller"] = Pod(INGRESS_NS, {"app.kubernetes.io/name": "ingress-nginx"})
    pods["stranger"] = Pod("default", {"app": "stranger"})
    pods["same-namespace-stranger"] = Pod(ns, {"app": "stranger"})
    return pods


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_designed_connections_are_open(overlay):
    policies = objects(overlay, "NetworkPolicy")
    pods = _pods(overlay)
    open_connections = {
        (source, target)
        for source in pods
        for target in SERVICES
        if source != target and connects(policies, pods[source], pods[target])
    }
    expected = {("controller", short) for short in SERVICES}
    expected |= {(caller, callee) for caller, callees in CALLS.items() for callee in callees}
    assert open_connections == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_jobs_share_their_service_network_identity(overlay):
    """reconcile calls other services: its pods must be let out (and in) like the service's."""
    policies = objects(overlay, "NetworkPolicy")
    ns = namespace(overlay)
    reconcile = named(overlay, "CronJob", "mini-order-reconcile")
    labels = reconcile["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    job_pod = Pod(ns, labels)
    for callee in CALLS["order"]:
        target = Pod(
            ns,
            named(overlay, "Deployment", f"mini-{callee}")["spec"]["template"]["metadata"][
                "labels"
            ],
        )
        assert connects(policies, job_pod, target)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_reaches_dns_and_the_datastores(overlay):
    policies = objects(overlay, "NetworkPolicy")
    pods = _pods(overlay)
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    egress = named(overlay, "NetworkPolicy", "allow-datastores-egress")["spec"]["egress"]
    for short in SERVICES:
        source = pods[short]
        assert connects(policies, source, dns, 53, "UDP")
        assert connects(policies, source, dns, 53, "TCP")
        for port in (5432, 6379):
            rules = [r for r in egress if _port_matches(r.get("ports"), port, "TCP")]
            assert rules, f"{overlay}: no egress to port {port}"
            for rule in rules:
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                        target = Pod("", {}, str(network.network_address))
                    else:
                        name = peer["namespaceSelector"]["matchLabels"][
                            "kubernetes.io/metadata.name"
                        ]
                        target = Pod(name, {})
                    assert _allows(policies, "out", source, target, port, "TCP")
        # ... and nowhere else: no egress to an arbitrary address on another port
        assert not _allows(policies, "out", source, Pod("", {}, "203.0.113.7"), 443, "TCP")
