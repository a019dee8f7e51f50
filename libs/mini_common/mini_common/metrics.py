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

A service adds gauges read from its database when ``/metrics`` is asked
(``collect_at_scrape``): mini_order's NEW orders, mini_notif's unsent
notifications, and when the ``reconcile`` of mini_auth, mini_order and
mini_notif last started, succeeded and failed (``reconcile_recorded`` keeps
that in the service's database: the command runs in a process of its own
that nobody scrapes).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from django.db import DatabaseError
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase

logger = logging.getLogger("mini_common.metrics")

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


def request_observed(request, status: int, seconds: float, route: str | None = None) -> None:
    labels = (request.method, route or route_of(request), str(status))
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


METRICS_PATH = "/metrics"


class MetricsMiddleware:
    """Counts and times every request by route and status (just inside RequestContext).

    It answers ``/metrics`` itself, before CommonMiddleware checks the Host header
    against ALLOWED_HOSTS: Prometheus scrapes each pod at its IP address, which no
    setting can list in advance, and it cannot send another Host. Nothing in the
    answer is built from the Host header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        if request.path_info == METRICS_PATH:
            response = metrics_view(request)
            request_observed(
                request, response.status_code, time.perf_counter() - started, "metrics"
            )
            return response
        response = self.get_response(request)
        request_observed(request, response.status_code, time.perf_counter() - started)
        return response


# --- gauges computed at scrape time --------------------------------------------------


class ScrapeCollector(Protocol):
    """A prometheus_client collector whose ``describe()`` names its families without samples."""

    def describe(self) -> Iterable[Metric]: ...

    def collect(self) -> Iterable[Metric]: ...


_SCRAPE_COLLECTORS: list[ScrapeCollector] = []


def collect_at_scrape(collector: ScrapeCollector) -> None:
    """Answer ``collector``'s families on /metrics, computed when it is asked.

    For values a database holds (a count, an age): one cheap query per scrape
    instead of a gauge every worker would have to keep up to date. Under
    gunicorn the worker that answers the scrape runs it. Registered once per
    process, from the app's ``ready()``.
    """
    _SCRAPE_COLLECTORS.append(collector)


class _DatabaseGuard:
    """A scrape collector whose database failure leaves out its families, not all of /metrics.

    While the database is down the other series (breakers, 5xx) matter most;
    the gauges' absence shows the gap.
    """

    def __init__(self, collector: ScrapeCollector):
        self.collector = collector

    def describe(self) -> Iterable[Metric]:
        return self.collector.describe()

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.collector.collect())
        except DatabaseError as exc:
            logger.warning("metrics of %s left out: %s", type(self.collector).__name__, exc)
            return []


def registry() -> CollectorRegistry:
    """The registry to expose: every worker's samples under gunicorn, else this process's;
    and the scrape-time collectors."""
    collected = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(collected)
    else:
        collected.register(REGISTRY)  # a registry is a collector of its own metrics
    for collector in _SCRAPE_COLLECTORS:
        collected.register(_DatabaseGuard(collector))
    return collected


def age_seconds(since: datetime | None, now: datetime) -> float:
    """Seconds from ``since`` to ``now``; 0 for nothing (no such row)."""
    return max(0.0, (now - since).total_seconds()) if since else 0.0


def exported_names() -> set[str]:
    """Every sample name /metrics can answer, from the declarations (no sample needed).

    The metrics of this module as gunicorn's multiprocess mode exposes them
    (counters' ``_total``, histograms' ``_bucket``, ``_sum``, ``_count``; no
    ``_created``, no process metrics) and the scrape-time collectors' families.
    Dashboards and alert rules are checked against it.
    """
    declared = [m for m in globals().values() if isinstance(m, MetricWrapperBase)]
    families = [f for metric in declared for f in metric.describe()]
    families += [f for collector in _SCRAPE_COLLECTORS for f in collector.describe()]
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    return {f.name + suffix for f in families for suffix in suffixes.get(f.type, ("",))}


# --- the last run of `reconcile`, kept in the service's database ----------------------


class ReconcileRunModel(Protocol):
    """A model with one row: ``started_at``, ``succeeded_at``, ``failed_at``, ``last_error``."""

    objects: Any


RECONCILE_TIMES = {
    "start": ("started_at", "When reconcile last started (Unix time)"),
    "success": ("succeeded_at", "When reconcile last finished without error (Unix time; 0: never)"),
    "failure": ("failed_at", "When reconcile last stopped on an error (Unix time; 0: never)"),
}
LAST_ERROR_MAX_LENGTH = 2000


@contextmanager
def reconcile_recorded(model: ReconcileRunModel) -> Iterator[None]:
    """Record in ``model``'s row when this ``reconcile`` run started and how it ended.

    A run killed from outside (a Job's deadline, SIGKILL) records no end: its
    start stays later than the last success, which is what the alert watches.
    """
    model.objects.update_or_create(pk=1, defaults={"started_at": timezone.now()})
    try:
        yield
    except BaseException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:LAST_ERROR_MAX_LENGTH]
        try:
            model.objects.filter(pk=1).update(failed_at=timezone.now(), last_error=error)
        except DatabaseError:
            logger.exception("reconcile's failure not recorded")
        raise
    model.objects.filter(pk=1).update(succeeded_at=timezone.now())


def reconcile_families(model: ReconcileRunModel | None) -> list[GaugeMetricFamily]:
    """``mini_reconcile_last_{start,success,failure}_timestamp_seconds`` from ``model``'s row.

    No samples before the first run (or without a model: ``describe()``).
    """
    run = model.objects.filter(pk=1).first() if model is not None else None
    families = []
    for what, (field, documentation) in RECONCILE_TIMES.items():
        family = GaugeMetricFamily(f"mini_reconcile_last_{what}_timestamp_seconds", documentation)
        if run is not None:
            at = getattr(run, field)
            family.add_metric([], at.timestamp() if at else 0.0)
        families.append(family)
    return families


class ReconcileCollector:
    """The scrape-time collector of ``reconcile_families(model)``, for every service
    that reconciles. Register it from ``ready()``:
    ``collect_at_scrape(ReconcileCollector(ReconcileRun))``."""

    def __init__(self, model: ReconcileRunModel):
        self.model = model

    def describe(self) -> Iterable[Metric]:
        return reconcile_families(None)

    def collect(self) -> Iterable[Metric]:
        return reconcile_families(self.model)


def metrics_view(request):
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
