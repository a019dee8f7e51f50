"""Bodies built to confuse: odd Unicode, repeated keys, floods of unknown fields.

The policy is mini_common's (parser and Serializer, docs/CONVENTIONS.md); these
check it holds where money moves.
"""

import json
import time
from decimal import Decimal

import pytest

from billing.models import Account, Operation
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

OPERATE = "/billing/account/operate"


@pytest.fixture
def as_alice(make_user_client):
    AccountFactory(username="alice", deposit="100")
    return make_user_client("alice")


def post_raw(client, body: str):
    return client.post(OPERATE, body, content_type="application/json")


def assert_nothing_moved():
    assert Account.objects.get(username="alice").balance == Decimal("100.00")
    assert Operation.objects.count() == 1  # the factory's deposit


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "\\ud800", "amount": 1}',
        '{"type": "DEPOSIT", "amount": 1, "\\ud800": 1}',
        '{"type": "DEPOSIT", "amount": 1, "account": {"username": "\\udfff"}}',
    ],
)
def test_a_lone_surrogate_is_a_400_malformed_request(as_alice, body):
    response = post_raw(as_alice, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"
    assert_nothing_moved()


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "DEPOSIT", "type": "WITHDRAWAL", "amount": 1}',
        '{"type": "WITHDRAWAL", "amount": 1, "amount": 100}',
        '{"type": "DEPOSIT", "amount": 1, "account": {"username": "alice", "username": "bob"}}',
    ],
)
def test_a_repeated_key_is_a_400_and_moves_nothing(as_alice, body):
    response = post_raw(as_alice, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert "appears twice" in response.json()["detail"]
    assert_nothing_moved()


def test_unknown_fields_are_named_nested_ones_too(as_alice):
    response = as_alice.post(
        OPERATE,
        {"type": "DEPOSIT", "amount": 1, "acount": {"username": "bob"}},
        format="json",
    )
    assert response.json()["errors"] == {"acount": ["Unknown field."]}
    nested = {"type": "DEPOSIT", "amount": 1, "account": {"username": "alice", "name": "x"}}
    response = as_alice.post(OPERATE, nested, format="json")
    assert response.json()["errors"] == {"account": {"name": ["Unknown field."]}}
    assert_nothing_moved()


def test_900_kib_of_unknown_fields_is_quick_and_answered_briefly(as_alice):
    body = {"type": "DEPOSIT", "amount": 1, **{f"k{n}": 0 for n in range(100_000)}}
    raw = json.dumps(body)
    assert len(raw) > 900 * 1024
    started = time.perf_counter()
    response = post_raw(as_alice, raw)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 11  # ten named, and how many more
    assert errors["nonFieldErrors"] == ["99990 more unknown fields are not listed."]
    assert len(response.content) < 2048
    assert elapsed < 1.0, elapsed  # 1.5 s of a worker and a 2.3 MiB answer before
    assert_nothing_moved()
