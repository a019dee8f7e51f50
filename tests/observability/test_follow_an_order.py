"""One order followed through all five services: its request id in every log, one trace.

Drives the real system through the gateway, then reads what an operator reads:
`manage_all.py logs --request <id>` and `manage_all.py trace <id>`.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.support import login, register_user
from tools.manage_all import REPO_ROOT
from tools.manage_all.observe import entry_time

SERVICES = {"mini_auth", "mini_user", "mini_billing", "mini_order", "mini_notif"}
ON_POSTGRES = bool(os.environ.get("TEST_POSTGRES_URL"))


def manage_all_cli(system, *args: str) -> subprocess.CompletedProcess:
    """manage_all.py as an operator runs it, on the test system's var dir."""
    env = {**os.environ, "MINI_VAR_DIR": str(system.var_dir)}
    return subprocess.run(
        [sys.executable, "manage_all.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def json_output(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def order(observed_gateway):
    """A PAID order of a new user, placed with a fresh token (so the gateway asks mini_auth)."""
    user = register_user(observed_gateway, balance=100)
    api = observed_gateway.as_user(login(observed_gateway, user.username)["accessToken"])
    request_id = f"obs-{uuid.uuid4().hex[:12]}"
    response = api.post(
        "/api/v1/order",
        {"orderPositions": [{"productId": 7, "price": 12.5, "quantity": 2}]},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PAID"
    assert response.headers["X-Request-ID"] == request_id
    return {"request_id": request_id, "username": user.username, "id": response.json()["id"]}


@pytest.fixture(scope="module")
def log_lines(observed_system, order):
    return json_output(
        manage_all_cli(observed_system, "logs", "--request", order["request_id"], "--json")
    )


@pytest.fixture(scope="module")
def spans(observed_system, order):
    return json_output(manage_all_cli(observed_system, "trace", order["request_id"], "--json"))


def test_logs_follow_the_request_through_all_five_services_and_the_gateway(log_lines, order):
    assert {line["service"] for line in log_lines} == SERVICES | {"gateway"}
    assert all(line["request_id"] == order["request_id"] for line in log_lines)
    times = [entry_time(line) for line in log_lines]
    assert times == sorted(times)
    # Every line has the common shape; access lines (and the gateway's) the request's.
    for line in log_lines:
        for field in ("time", "level", "service", "request_id", "trace_id", "span_id", "message"):
            assert field in line, line
    accesses = [
        line for line in log_lines if line.get("logger") in ("mini_common.access", "nginx.access")
    ]
    assert {line["service"] for line in accesses} == SERVICES | {"gateway"}
    for line in accesses:
        for field in ("method", "path", "status", "duration_ms", "username"):
            assert field in line, line
    gateway = next(line for line in accesses if line["service"] == "gateway")
    assert (gateway["method"], gateway["path"], gateway["status"]) == ("POST", "/api/v1/order", 201)
    assert gateway["username"] == order["username"]


def test_calls_to_other_services_are_logged_with_target_attempt_and_breaker(log_lines):
    calls = [line for line in log_lines if line.get("logger") == "mini_common.client"]
    assert {line["target"] for line in calls} >= {"billing", "user", "notif"}
    # The payment (200 from mini_billing), the profile (200), the notification (201).
    answered = {"billing": 200, "user": 200, "notif": 201}
    for line in calls:
        assert line["service"] == "mini_order"
        assert line["attempt"] == 1 and line["breaker_state"] == "closed"
        assert line["status"] == answered[line["target"]], line


def test_one_trace_with_a_span_per_hop(spans, order):
    assert len({span["trace_id"] for span in spans}) == 1
    assert {span["service"] for span in spans} == SERVICES | {"gateway"}
    by_id = {span["span_id"]: span for span in spans}
    roots = [span for span in spans if span["parent_span_id"] not in by_id]
    assert [root["service"] for root in roots] == ["gateway"]
    gateway = roots[0]
    servers = {
        span["service"]: span
        for span in spans
        if span["kind"] == "SERVER" and span["service"] != "gateway"
    }
    # The gateway's span is the parent of both the auth_request and the proxied order.
    assert servers["mini_auth"]["name"] == "GET api/v1/auth/verify"
    assert servers["mini_auth"]["parent_span_id"] == gateway["span_id"]
    assert servers["mini_order"]["parent_span_id"] == gateway["span_id"]
    assert servers["mini_order"]["attributes"]["mini.request_id"] == order["request_id"]
    # billing, user and notif answer mini_order's calls: each parent is an HTTP span of mini_order.
    for service in ("mini_billing", "mini_user", "mini_notif"):
        parent = by_id[servers[service]["parent_span_id"]]
        assert parent["service"] == "mini_order" and parent["kind"] == "CLIENT"
        assert by_id[parent["parent_span_id"]]["attributes"]["mini.target"] == service[5:]
    # Children start and end within their parents (one clock: one machine).
    for span in spans:
        parent = by_id.get(span["parent_span_id"])
        if parent is not None and parent["service"] != "gateway":
            assert parent["start_ns"] <= span["start_ns"] <= span["end_ns"] <= parent["end_ns"]


def test_database_queries_are_spans_of_their_service(spans):
    queries = [span for span in spans if "db.statement" in span["attributes"]]
    assert {span["service"] for span in queries} >= {"mini_order", "mini_billing", "mini_notif"}
    assert any(
        'INSERT INTO "orders_order"' in span["attributes"]["db.statement"] for span in queries
    )


def test_log_lines_carry_the_trace_and_span_ids_of_the_spans(log_lines, spans):
    trace_id = spans[0]["trace_id"]
    servers = {span["service"]: span for span in spans if span["kind"] == "SERVER"}
    for line in log_lines:
        assert line["trace_id"] == trace_id, line
        if line.get("logger") in ("mini_common.access", "nginx.access"):
            assert line["span_id"] == servers[line["service"]]["span_id"], line


def test_trace_prints_a_waterfall_by_request_id_or_trace_id(observed_system, order, spans):
    trace_id = spans[0]["trace_id"]
    for wanted in (order["request_id"], trace_id):
        result = manage_all_cli(observed_system, "trace", wanted)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith(f"trace {trace_id}: {len(spans)} spans")
        assert lines[1].split() == [
            "offset",
            "ms",
            "duration",
            "ms",
            "status",
            "service",
            "operation",
        ]
        assert lines[2].split()[3] == "gateway" and "POST /api/v1/order → 201" in lines[2]
        assert {line.split()[3] for line in lines[2:]} == SERVICES | {"gateway"}


def test_unknown_ids_are_reported(observed_system):
    assert manage_all_cli(observed_system, "logs", "--request", "no-such-id").returncode == 1
    assert manage_all_cli(observed_system, "trace", "no-such-id", "--wait", "0").returncode == 1


def test_gunicorns_own_lines_are_json_too(observed_system):
    lines = observed_system.log_file("order").read_text().splitlines()
    booting = [json.loads(line) for line in lines if '"gunicorn.error"' in line]
    assert any(line["message"].startswith("Booting worker") for line in booting)
    assert all(line["service"] == "mini_order" for line in booting)
