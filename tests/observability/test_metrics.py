"""/metrics on every service's own port (Prometheus text), never through the gateway."""

import re
import urllib.request
import uuid

import pytest

from tests.support import register_user

METRIC_LINE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$"
)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def scrape(system, service: str) -> dict:
    """{(name, frozenset(labels)): value} of one service's /metrics, asked directly (no token)."""
    with _OPENER.open(f"{system.url(service)}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match and not line.startswith("#"):
            labels = frozenset(LABEL.findall(match["labels"] or ""))
            samples[(match["name"], labels)] = float(match["value"])
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def buyer(observed_gateway):
    user = register_user(observed_gateway, balance=50)
    paid = user.order([{"productId": 1, "price": 10, "quantity": 1}])
    poor = user.order([{"productId": 2, "price": 1000, "quantity": 1}])
    assert paid.json()["status"] == "PAID" and poor.json()["status"] == "INSUFFICIENT_FUNDS"
    return user


@pytest.mark.parametrize("service", ["auth", "user", "billing", "order", "notif"])
def test_every_service_serves_metrics_on_its_port(observed_system, buyer, service):
    samples = scrape(observed_system, service)
    requests_seen = [key for key in samples if key[0] == "mini_http_requests_total"]
    assert requests_seen, f"mini_{service} counted no request"
    assert any(key[0] == "mini_http_request_duration_seconds_bucket" for key in samples)


def test_requests_are_counted_by_route_not_by_path(observed_system, buyer):
    labels = {"method": "GET", "route": "api/v1/order/ping", "status": "200"}
    before = value(scrape(observed_system, "order"), "mini_http_requests_total", **labels)
    for _ in range(3):
        assert buyer.api.get("/api/v1/order/ping").status_code == 200
    after = scrape(observed_system, "order")
    assert value(after, "mini_http_requests_total", **labels) == before + 3
    # mini_user sees /api/v1/user/<name> of many users under one route.
    users = scrape(observed_system, "user")
    assert not any("/api/v1/user/" in dict(key[1]).get("route", "") for key in users)
    assert any(dict(key[1]).get("route") == "api/v1/user/<str:username>" for key in users)


def test_business_and_dependency_metrics(observed_system, buyer):
    order = scrape(observed_system, "order")
    assert value(order, "mini_orders_total", status="NEW") >= 2
    assert value(order, "mini_orders_total", status="PAID") >= 1
    assert value(order, "mini_orders_total", status="INSUFFICIENT_FUNDS") >= 1
    assert value(order, "mini_client_calls_total", target="billing", outcome="ok") >= 1
    assert value(order, "mini_client_calls_total", target="notif", outcome="ok") >= 2
    assert ("mini_breaker_state", frozenset({("target", "billing")})) in order
    assert value(order, "mini_breaker_state", target="billing") == 0
    billing = scrape(observed_system, "billing")
    assert value(billing, "mini_billing_operations_total", type="PAYMENT", outcome="done") >= 1
    assert value(billing, "mini_billing_operations_total", type="DEPOSIT", outcome="done") >= 1
    assert (
        value(
            billing, "mini_billing_operations_total", type="PAYMENT", outcome="insufficient_funds"
        )
        >= 1
    )


def test_idempotent_replays_are_counted(observed_system, buyer):
    labels = {"method": "POST", "route": "api/v1/order"}
    before = value(scrape(observed_system, "order"), "mini_idempotent_replays_total", **labels)
    key = str(uuid.uuid4())
    first = buyer.order([{"productId": 3, "price": 1, "quantity": 1}], key=key)
    again = buyer.order([{"productId": 3, "price": 1, "quantity": 1}], key=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    after = value(scrape(observed_system, "order"), "mini_idempotent_replays_total", **labels)
    assert after == before + 1


def test_metrics_are_not_routed_by_the_gateway(observed_gateway, buyer):
    for api in (observed_gateway, buyer.api):  # with or without a token
        response = api.get("/metrics")
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/problem+json")


def test_the_floor_endpoint_needs_a_token_like_orders(observed_gateway, buyer):
    assert observed_gateway.get("/api/v1/order/ping").status_code == 401
    response = buyer.api.get("/api/v1/order/ping")
    assert response.status_code == 200 and response.json()["status"] == "ok"


PING_ROUTES = {"billing": "billing/ping", "notif": "api/v1/notification/ping"}


def test_the_hops_endpoint_pings_billing_then_notif(observed_system, observed_gateway, buyer):
    def pings(service: str) -> float:
        labels = {"method": "GET", "route": PING_ROUTES[service], "status": "200"}
        return value(scrape(observed_system, service), "mini_http_requests_total", **labels)

    before = {service: pings(service) for service in PING_ROUTES}
    assert observed_gateway.get("/api/v1/order/ping/hops").status_code == 401
    response = buyer.api.get("/api/v1/order/ping/hops")
    assert response.status_code == 200, response.text
    assert response.json()["hops"] == {"billing": 200, "notif": 200}
    # Each service answered its ping once: one call each through the client, no retry.
    assert {service: pings(service) - before[service] for service in PING_ROUTES} == {
        "billing": 1,
        "notif": 1,
    }
