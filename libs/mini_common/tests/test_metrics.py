"""/metrics and what the middleware, the client and the idempotency decorator record."""

import pytest
import requests  # noqa: TID251 - fakes a connection failure of the client
import responses
from django.db import OperationalError
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from mini_common import metrics
from mini_common.client import service_client
from mini_common.errors import DependencyUnavailable

pytestmark = pytest.mark.django_db


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_answer_without_the_internal_token(anonymous_client):
    response = anonymous_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"mini_http_requests_total" in response.content


def test_requests_are_counted_by_route_and_status(make_user_client):
    labels = {"method": "POST", "route": "charge", "status": "201"}
    before = sample("mini_http_requests_total", **labels)
    timed = sample("mini_http_request_duration_seconds_count", **labels)
    make_user_client("alice").post("/charge", {"amount": 1, "kind": "DEPOSIT"}, format="json")
    assert sample("mini_http_requests_total", **labels) == before + 1
    assert sample("mini_http_request_duration_seconds_count", **labels) == timed + 1


def test_unmatched_paths_share_one_route_label(make_user_client):
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = sample("mini_http_requests_total", **labels)
    make_user_client("alice").get("/no/such/path/123")
    make_user_client("alice").get("/no/such/path/456")
    assert sample("mini_http_requests_total", **labels) == before + 2


def test_idempotent_replays_are_counted(make_user_client):
    labels = {"method": "POST", "route": "charge"}
    before = sample("mini_idempotent_replays_total", **labels)
    client = make_user_client("alice")
    for _ in range(3):
        client.post(
            "/charge",
            {"amount": 2, "kind": "DEPOSIT"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-metrics",
        )
    assert sample("mini_idempotent_replays_total", **labels) == before + 2


@responses.activate
def test_client_calls_by_outcome_retries_and_breaker_state():
    billing = "http://billing.test"
    ok = {"target": "billing", "outcome": "ok"}
    rejected = {"target": "billing", "outcome": "client_error"}
    down = {"target": "billing", "outcome": "unavailable"}
    opened = {"target": "billing", "outcome": "circuit_open"}
    before = {
        key: sample("mini_client_calls_total", **labels)
        for key, labels in {"ok": ok, "rejected": rejected, "down": down, "open": opened}.items()
    }
    retries = sample("mini_client_retries_total", target="billing")

    responses.get(f"{billing}/a", json={})
    responses.get(f"{billing}/b", status=404, json={})
    responses.get(f"{billing}/c", body=requests.ConnectionError("refused"))
    responses.post(f"{billing}/d", body=requests.ConnectionError("refused"))
    client = service_client("billing")
    client.get("/a")
    client.get("/b")
    assert sample("mini_breaker_state", target="billing") == 0
    with pytest.raises(DependencyUnavailable):
        client.post("/d", json={})  # no Idempotency-Key: one attempt, failure 1 of 3
    with pytest.raises(DependencyUnavailable):
        client.get("/c")  # failures 2 and 3 (one retry): the circuit opens
    with pytest.raises(DependencyUnavailable):
        client.get("/c")  # refused at once

    assert sample("mini_client_calls_total", **ok) == before["ok"] + 1
    assert sample("mini_client_calls_total", **rejected) == before["rejected"] + 1
    assert sample("mini_client_calls_total", **down) == before["down"] + 1
    assert sample("mini_client_calls_total", **opened) == before["open"] + 2
    assert sample("mini_client_retries_total", target="billing") == retries + 1
    assert sample("mini_breaker_state", target="billing") == 2
    assert sample("mini_client_call_duration_seconds_count", **ok) >= 1


def test_business_counters():
    before = sample("mini_orders_total", status="PAID")
    metrics.order_status_observed("PAID")
    assert sample("mini_orders_total", status="PAID") == before + 1
    labels = {"type": "PAYMENT", "outcome": "insufficient_funds"}
    before = sample("mini_billing_operations_total", **labels)
    metrics.billing_operation_observed("PAYMENT", "insufficient_funds")
    assert sample("mini_billing_operations_total", **labels) == before + 1


def test_multiprocess_registry_reads_the_workers_files(tmp_path, monkeypatch):
    # What /metrics does under gunicorn: a fresh registry over PROMETHEUS_MULTIPROC_DIR.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    registry = metrics.registry()
    assert registry is not REGISTRY
    assert list(registry.collect()) == []  # no worker has written anything there


def test_metrics_answer_a_host_no_setting_lists(anonymous_client, settings):
    # Production lists its host names; Prometheus asks each pod at its IP address.
    settings.ALLOWED_HOSTS = ["mini-test"]
    response = anonymous_client.get("/metrics", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert b"mini_http_requests_total" in response.content
    assert sample("mini_http_requests_total", method="GET", route="metrics", status="200") >= 1
    # Every other path still refuses that Host.
    assert anonymous_client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 400


class CountingCollector:
    """A scrape-time collector of one gauge: how many times it was asked."""

    def __init__(self, error: Exception | None = None):
        self.asked = 0
        self.error = error

    def describe(self):
        return [GaugeMetricFamily("mini_test_asked", "Times asked")]

    def collect(self):
        self.asked += 1
        if self.error:
            raise self.error
        return [GaugeMetricFamily("mini_test_asked", "Times asked", value=self.asked)]


@pytest.fixture
def scrape_collectors(monkeypatch):
    collectors = []
    monkeypatch.setattr(metrics, "_SCRAPE_COLLECTORS", collectors)
    return collectors


@pytest.mark.parametrize("multiprocess", [False, True])
def test_scrape_time_collectors_are_asked_at_each_scrape(
    anonymous_client, scrape_collectors, multiprocess, tmp_path, monkeypatch
):
    if multiprocess:  # under gunicorn: the worker answering the scrape asks them
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics.collect_at_scrape(CountingCollector())
    for expected in (1, 2):
        response = anonymous_client.get("/metrics")
        assert f"mini_test_asked {expected:.1f}\n".encode() in response.content


def test_a_collector_database_error_leaves_out_only_its_families(
    anonymous_client, scrape_collectors
):
    metrics.collect_at_scrape(CountingCollector(error=OperationalError("connection refused")))
    response = anonymous_client.get("/metrics")
    assert response.status_code == 200
    assert b"mini_test_asked" not in response.content
    assert b"mini_http_requests_total" in response.content


def test_a_collector_bug_is_not_hidden(anonymous_client, scrape_collectors):
    metrics.collect_at_scrape(CountingCollector(error=KeyError("oops")))
    with pytest.raises(KeyError):
        anonymous_client.get("/metrics")


def test_exported_names_are_the_sample_names_of_each_type(scrape_collectors):
    metrics.collect_at_scrape(CountingCollector())
    names = metrics.exported_names()
    assert {"mini_http_requests_total", "mini_client_retries_total", "mini_orders_total"} <= names
    histogram = "mini_http_request_duration_seconds"
    assert {f"{histogram}_bucket", f"{histogram}_sum", f"{histogram}_count"} <= names
    assert {"mini_breaker_state", "mini_test_asked"} <= names
    assert "mini_http_requests" not in names and histogram not in names
    assert not [name for name in names if not name.startswith("mini_")]  # no process_*
