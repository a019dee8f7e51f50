"""The gateway's routes, three times: API.md's table, the nginx template, the Ingresses.

Every probe (each route, its edges, the internal endpoints) must get the same
answer from all three: the same service behind the same kind of
authentication, or a 404.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy import routes
from tests.deploy.support import (
    GATEWAY_TEMPLATE,
    OVERLAYS,
    REPO_ROOT,
    SERVICES,
    named,
    objects,
)

API_MD = REPO_ROOT / "docs" / "api.md"
CONVENTIONS = REPO_ROOT / "docs" / "CONVENTIONS.md"

# Internal endpoints that share their path with a public method
# (GET /api/v1/notification is public, POST is internal): a path-based
# Ingress routes both, and the service refuses the internal one because the
# controller strips X-Service (test_k8s.py checks that configuration).
SERVICE_ENFORCED = {("POST", "/api/v1/notification")}


def table() -> routes.RouteTable:
    return routes.parse_api_file(API_MD)


def test_the_table_is_understood():
    parsed = table()
    prefixes = {route.prefix: route for route in parsed.routes}
    assert prefixes["/api/v1/auth/login"] == routes.TableRoute("/api/v1/auth/login", "auth", "none")
    assert prefixes["/billing/"].auth == "jwt"
    assert {f"/admin/{s}/" for s in SERVICES} <= set(prefixes)
    assert ("GET", "/api/v1/auth/verify") in parsed.internal
    assert ("POST", "/billing/account/new") in parsed.internal
    assert ("POST", "/billing/payment/void") in parsed.internal
    assert ("POST", "/api/v1/notification") in parsed.internal
    assert "/api/v1/notification" in parsed.shared_paths


def test_the_nginx_template_serves_the_table():
    parsed = table()
    locations = routes.nginx_locations(GATEWAY_TEMPLATE.read_text(encoding="utf-8"))
    wrong = {
        (method, path): (str(parsed.expected(method, path)), str(got))
        for method, path in routes.probes(parsed)
        if (got := routes.nginx_outcome(locations, method, path)) != parsed.expected(method, path)
    }
    assert not wrong, f"gateway_nginx/nginx.conf.template differs from API.md: {wrong}"


def _not_found_services(overlay: str) -> set[str]:
    """Services the Ingresses use only to answer 404 (the paths they get are not theirs)."""
    return {
        service["metadata"]["name"]
        for service in objects(overlay, "Service")
        if service["metadata"]["name"] == "mini-not-found"
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingresses_serve_the_table(overlay):
    parsed = table()
    ingresses = objects(overlay, "Ingress")
    hosts = {rule["host"] for ingress in ingresses for rule in ingress["spec"]["rules"]}
    assert len(hosts) == 1, f"one public host name, not {hosts}"
    locations = routes.ingress_locations(ingresses, hosts.pop())
    not_found = _not_found_services(overlay)
    wrong = {}
    for method, path in routes.probes(parsed):
        expected = parsed.expected(method, path)
        got = routes.ingress_outcome(locations, path, not_found)
        if got != expected and (method, path) not in SERVICE_ENFORCED:
            wrong[(method, path)] = (str(expected), str(got))
    assert not wrong, f"{overlay}: the Ingresses differ from API.md: {wrong}"


def test_only_shared_path_internal_endpoints_are_left_to_the_services():
    parsed = table()
    assert {(m, p) for m, p in parsed.internal if p in parsed.shared_paths} == SERVICE_ENFORCED


def _served_prefixes() -> dict[str, list[str]]:
    """docs/CONVENTIONS.md: the URL prefixes each service serves, plus the shared ones."""
    served: dict[str, list[str]] = {}
    for line in CONVENTIONS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*mini_(\w+)\s*\|.*\|\s*`(/[^`]*)`\s*\|\s*$", line)
        if match:
            short, prefix = match.groups()
            served[short] = [prefix, "/healthz", "/readyz"] + [
                f"/{kind}/{short}/" for kind in ("admin", "static", "docs")
            ]
    assert set(served) == set(SERVICES), f"CONVENTIONS.md table not understood: {served}"
    return served


def _serves(prefixes: list[str], path: str) -> bool:
    return any(
        path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/")
        for prefix in prefixes
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mini_not_found_pods_serve_none_of_the_paths_sent_to_them(overlay):
    selector = named(overlay, "Service", "mini-not-found")["spec"]["selector"]
    short = selector["app.kubernetes.io/name"].removeprefix("mini-")
    served = _served_prefixes()[short]
    sent = [
        entry["path"]
        for ingress in objects(overlay, "Ingress")
        for rule in ingress["spec"]["rules"]
        for entry in rule["http"]["paths"]
        if entry["backend"]["service"]["name"] == "mini-not-found"
    ]
    assert sent, "mini-not-found is routed nothing"
    assert not [path for path in sent if _serves(served, path)]
    assert all(entry_path in table().internal_paths() for entry_path in sent)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_ingress_uses_regex_rewrites_or_snippets(overlay):
    """They would change every location of the host, or need snippets enabled."""
    for ingress in objects(overlay, "Ingress"):
        for key in ingress["metadata"].get("annotations", {}):
            name = key.removeprefix("nginx.ingress.kubernetes.io/")
            assert name not in ("rewrite-target", "use-regex", "app-root"), key
            assert not name.endswith("snippet"), key
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                assert entry["pathType"] in ("Exact", "Prefix"), entry
