"""Prometheus metrics of a service: ``GET /metrics`` and the few calls that record them.

Under gunicorn every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR``
(gunicorn_conf sets it per service and empties it at start) and ``/metrics``
adds them up; without it (tests, runserver) the process's own registry is used.

``/metrics`` is served on the service's own port without the internal token
(like ``/healthz``): only the gateway is exposed, and the gateway does not route
it (404). Series:

- ``mini_http_requests_total`` / ``mini_http_request_duration_seconds``:
  incoming requests by method, route (the URL pattern, not the raw path) and status;
- ``mini_client_calls_total`` / ``mini_client_call_duration_seconds``: calls to
  other services by target and outcome (``ok``, ``client_error`` for a 4xx
  answer, ``unavailable``, ``circuit_open``); ``mini_client_retries_total``;
- ``mini_breaker_state``: per target, 0 closed, 1 half-open, 2 open (the worst
  among live workers);
- ``mini_idempotent_replays_total``: stored answers replayed, by method and route;
- ``mini_orders_total``: orders reaching a status (NEW, PAID, ...);
- ``mini_billing_operations_total``: billing operations by type and outcome.
"""

from __future__ import annotations

import os
import time

from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}

HTTP_REQUESTS = Counter(
    "mini_http_requests", "Incoming HTTP requests", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "mini_http_request_duration_seconds",
    "Time to answer an incoming HTTP request",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
CLIENT_CALLS = Counter(
    "mini_client_calls", "Calls to other services, retries included", ["target", "outcome"]
)
CLIENT_DURATION = Histogram(
    "mini_client_call_duration_seconds",
    "Time of a call to another service, retries included",
    ["target", "outcome"],
    buckets=LATENCY_BUCKETS,
)
CLIENT_RETRIES = Counter("mini_client_retries", "Attempts repeated after a failure", ["target"])
BREAKER_STATE = Gauge(
    "mini_breaker_state",
    "Circuit breaker per target: 0 closed, 1 half-open, 2 open (worst live worker)",
    ["target"],
    multiprocess_mode="livemax",
)
IDEMPOTENT_REPLAYS = Counter(
    "mini_idempotent_replays",
    "Stored answers replayed for a repeated Idempotency-Key",
    ["method", "route"],
)
ORDERS = Counter("mini_orders", "Orders that reached a status", ["status"])
BILLING_OPERATIONS = Counter(
    "mini_billing_operations", "Billing operations by type and outcome", ["type", "outcome"]
)


# --- what the code records ---------------------------------------------------------


def route_of(request) -> str:
    """The URL pattern that matched (``api/v1/order/<int:order_id>``), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    if request.path.startswith("/static/"):
        return "static"
    return "unmatched"


def request_observed(request, status: int, seconds: float) -> None:
    labels = (request.method, route_of(request), str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_DURATION.labels(*labels).observe(seconds)


def call_observed(target: str, outcome: str, seconds: float) -> None:
    CLIENT_CALLS.labels(target, outcome).inc()
    CLIENT_DURATION.labels(target, outcome).observe(seconds)


def retry_observed(target: str) -> None:
    CLIENT_RETRIES.labels(target).inc()


def breaker_state_observed(target: str, state: str) -> None:
    BREAKER_STATE.labels(target).set(BREAKER_STATES.get(str(state), 0))


def idempotent_replay_observed(request) -> None:
    IDEMPOTENT_REPLAYS.labels(request.method, route_of(request)).inc()


def order_status_observed(status: str) -> None:
    ORDERS.labels(str(status)).inc()


def billing_operation_observed(operation_type: str, outcome: str = "done") -> None:
    BILLING_OPERATIONS.labels(str(operation_type), outcome).inc()


# --- serving them --------------------------------------------------------------------


class MetricsMiddleware:
    """Counts and times every request by route and status (just inside RequestContext)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        request_observed(request, response.status_code, time.perf_counter() - started)
        return response


def registry():
    """The registry to expose: every worker's samples under gunicorn, else this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def metrics_view(request):
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
