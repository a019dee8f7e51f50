"""@fail_fast: a view refuses work up front while a service it needs has its circuit open."""

import pytest
import requests
import responses

from mini_common.breakers import seconds_open
from mini_common.client import service_client
from mini_common.errors import DependencyUnavailable
from mini_common.models import IdempotencyRecord
from tests.urls import CALLS

pytestmark = pytest.mark.django_db

BILLING = "http://billing.test"
URL = "/charge-through-billing"
BODY = {"amount": "10.50", "kind": "deposit"}


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def open_billing_circuit():
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BILLING}/pay", body=requests.ConnectionError("down"))
        for _ in range(3):  # BREAKER_FAIL_MAX in the test settings
            with pytest.raises(DependencyUnavailable):
                service_client("billing").post("/pay", json={})


def test_a_closed_circuit_counts_zero_seconds():
    assert seconds_open("billing") == 0.0


def test_an_open_circuit_counts_down_its_reset_timeout():
    open_billing_circuit()
    # BREAKER_RESET_TIMEOUT (60 s in the test settings), made up to 25 % longer per process
    assert 59 < seconds_open("billing") <= 75


def test_an_open_circuit_whose_timeout_passed_lets_a_trial_through():
    open_billing_circuit()
    service_client("billing").breaker.reset_timeout = 0
    assert seconds_open("billing") == 0.0


def test_view_runs_while_the_circuit_is_closed(make_user_client):
    response = make_user_client("alice").post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 201
    assert len(CALLS) == 1


def test_open_circuit_answers_503_before_any_work(make_user_client):
    open_billing_circuit()
    response = make_user_client("alice").post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "dependency_unavailable"
    assert body["service"] == "billing"
    assert 59 <= int(response["Retry-After"]) <= 75
    # Nothing ran and the key was not used: a retry with it starts from scratch.
    assert CALLS == []
    assert not IdempotencyRecord.objects.exists()


def test_refused_before_validation_too(make_user_client):
    open_billing_circuit()
    response = make_user_client("alice").post(URL, {"amount": "x"}, format="json")
    assert response.status_code == 503
