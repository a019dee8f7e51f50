"""The inter-service client against a fake HTTP layer (responses)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from mini_common.client import service_client
from mini_common.context import context_from_headers, reset_context, set_context
from mini_common.errors import DependencyUnavailable

BILLING = "http://billing.test"


@responses.activate
def test_adds_identity_and_tracing_headers():
    responses.get(f"{BILLING}/ping", json={"ok": True})
    token = set_context(context_from_headers("req-1", None, 10))
    try:
        result = service_client("billing").get("/ping", username="alice")
    finally:
        reset_context(token)
    sent = responses.calls[0].request.headers
    assert result.status == 200 and result.data == {"ok": True}
    assert sent["X-Internal-Token"] == "dev-internal-token"
    assert sent["X-Service"] == "mini_test"
    assert sent["X-Username"] == "alice"
    assert sent["X-Request-ID"] == "req-1"
    assert sent["traceparent"].startswith("00-") and len(sent["traceparent"]) == 55


@responses.activate
def test_a_call_carries_only_its_own_headers_and_follows_no_redirect():
    # A cookie set by one answer must not ride along on the next user's call.
    responses.get(f"{BILLING}/ping", json={"ok": True}, headers={"Set-Cookie": "sessionid=abc"})
    responses.post(f"{BILLING}/pay", status=302, headers={"Location": f"{BILLING}/elsewhere"})
    client = service_client("billing")
    client.get("/ping", username="alice")
    answer = client.post("/pay", json={"a": 1}, username="bob")
    sent = responses.calls[1].request.headers
    assert answer.status == 302 and len(responses.calls) == 2
    assert "Cookie" not in sent
    assert sent["User-Agent"] == "mini-client/mini_test"
    assert sent["Content-Type"] == "application/json"
    assert responses.calls[1].request.body == b'{"a": 1}'


@responses.activate
def test_get_is_retried_on_503_then_succeeds():
    responses.get(f"{BILLING}/ping", status=503)
    responses.get(f"{BILLING}/ping", json={"ok": True})
    assert service_client("billing").get("/ping").status == 200
    assert len(responses.calls) == 2


@responses.activate
def test_post_without_key_is_never_retried():
    responses.post(f"{BILLING}/pay", status=503)
    with pytest.raises(DependencyUnavailable):
        service_client("billing").post("/pay", json={})
    assert len(responses.calls) == 1


@responses.activate
def test_post_with_key_is_retried_with_the_same_key():
    responses.post(f"{BILLING}/pay", body=requests.ConnectionError("reset"))
    responses.post(f"{BILLING}/pay", json={"id": 1})
    result = service_client("billing").post(
        "/pay", json={"a": 1}, idempotency_key="order-1-payment"
    )
    assert result.data == {"id": 1}
    assert [c.request.headers["Idempotency-Key"] for c in responses.calls] == [
        "order-1-payment"
    ] * 2


@responses.activate
def test_client_errors_are_answers_not_failures():
    responses.get(f"{BILLING}/missing", status=404, json={"code": "not_found"})
    client = service_client("billing")
    for _ in range(5):  # more than BREAKER_FAIL_MAX
        assert client.get("/missing").status == 404
    assert client.breaker.current_state == "closed"
    assert len(responses.calls) == 5


@responses.activate
def test_retries_are_bounded_then_dependency_unavailable():
    responses.get(f"{BILLING}/ping", status=502)
    with pytest.raises(DependencyUnavailable) as caught:
        service_client("billing").get("/ping")
    assert len(responses.calls) == 3
    assert caught.value.headers["Retry-After"].isdigit()


@responses.activate
def test_500_is_a_failure_but_not_retried():
    responses.get(f"{BILLING}/ping", status=500)
    with pytest.raises(DependencyUnavailable):
        service_client("billing").get("/ping")
    assert len(responses.calls) == 1


@responses.activate
def test_breaker_opens_and_then_fails_fast_without_calling():
    responses.post(f"{BILLING}/pay", body=requests.ConnectionError("down"))
    client = service_client("billing")
    for _ in range(3):  # BREAKER_FAIL_MAX in the test settings
        with pytest.raises(DependencyUnavailable):
            client.post("/pay", json={})
    assert client.breaker.current_state == "open"
    calls_before = len(responses.calls)
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        client.post("/pay", json={})
    assert len(responses.calls) == calls_before
    assert time.monotonic() - started < 0.05


def _reset_timeout_passed(client):
    from mini_common.breakers import _storages

    _storages[client.name].opened_at = datetime.now(UTC) - timedelta(hours=1)


def _open_breaker(client):
    responses.post(f"{BILLING}/pay", body=requests.ConnectionError("down"))
    for _ in range(3):  # BREAKER_FAIL_MAX in the test settings
        with pytest.raises(DependencyUnavailable):
            client.post("/pay", json={})
    responses.reset()
    _reset_timeout_passed(client)


@responses.activate
def test_trial_is_a_health_probe_and_a_failed_one_keeps_the_request_out():
    client = service_client("billing")
    _open_breaker(client)
    responses.get(f"{BILLING}/healthz", body=requests.ReadTimeout("still hung"))
    pay = responses.post(f"{BILLING}/pay", json={"ok": True})
    with pytest.raises(DependencyUnavailable):
        client.post("/pay", json={}, idempotency_key="k")
    assert [call.request.url for call in responses.calls] == [f"{BILLING}/healthz"]
    assert pay.call_count == 0
    assert client.breaker.current_state == "open"
    # Opened again just now: the next request is refused without any call.
    with pytest.raises(DependencyUnavailable):
        client.post("/pay", json={}, idempotency_key="k")
    assert len(responses.calls) == 1


@responses.activate
def test_a_good_probe_closes_the_circuit_and_the_request_goes_through():
    client = service_client("billing")
    _open_breaker(client)
    probe = responses.get(f"{BILLING}/healthz", json={"status": "ok"})
    responses.post(f"{BILLING}/pay", json={"ok": True})
    assert client.post("/pay", json={}).data == {"ok": True}
    assert probe.call_count == 1
    assert probe.calls[0].request.req_kwargs["timeout"] == 0.25
    assert client.breaker.current_state == "closed"


@responses.activate
def test_spent_budget_stops_calls_before_they_start():
    responses.get(f"{BILLING}/ping", json={})
    token = set_context(context_from_headers(None, None, 0.001))
    try:
        time.sleep(0.01)
        with pytest.raises(DependencyUnavailable):
            service_client("billing").get("/ping")
    finally:
        reset_context(token)
    assert len(responses.calls) == 0


@responses.activate
def test_retry_after_is_honoured_within_the_cap(settings):
    settings.MINI_COMMON = {**settings.MINI_COMMON, "RETRY_BACKOFF_CAP": 0.2}
    responses.get(f"{BILLING}/ping", status=503, headers={"Retry-After": "0.15"})
    responses.get(f"{BILLING}/ping", json={})
    started = time.monotonic()
    service_client("billing").get("/ping")
    assert time.monotonic() - started >= 0.15


def test_unknown_service_is_a_configuration_error():
    with pytest.raises(KeyError):
        service_client("nowhere")


def test_sessions_never_consult_the_environment():
    # No proxy variables, no ~/.netrc: services talk to each other directly, and
    # requests' per-call look-ups of those cost CPU on every call.
    assert service_client("billing").session.trust_env is False
