from decimal import Decimal

import pytest

from billing.models import Account, Operation
from billing.services import operation_perform
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

NEW = "/billing/account/new"
BALANCE = "/billing/account/balance"
FULL = "/billing/account/full"
OPERATIONS = "/billing/account/operations"


def add_operations(account: Account, count: int) -> None:
    for _ in range(count):
        operation_perform(username=account.username, operation_type="DEPOSIT", amount=Decimal("1"))


# --- /account/new --------------------------------------------------------------------------


def test_internal_create_then_existing_is_200(make_service_client):
    client = make_service_client("mini_auth")
    first = client.post(NEW, {"username": "alice"}, format="json")
    again = client.post(NEW, {"username": "alice"}, format="json")
    assert first.status_code == 201
    assert first.json() == {"id": first.json()["id"], "username": "alice", "balance": 0}
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Account.objects.count() == 1


def test_existing_account_is_answered_with_its_balance(make_service_client):
    AccountFactory(username="alice", deposit="12.5")
    response = make_service_client("mini_auth").post(NEW, {"username": "alice"}, format="json")
    assert response.status_code == 200
    assert response.json()["balance"] == 12.5


def test_create_is_internal_only(make_user_client):
    response = make_user_client("alice").post(NEW, {"username": "alice"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "al"},
        {"username": "a b c"},
        {"username": 123},
        {"username": "alice", "x": 1},
    ],
)
def test_create_validation(make_service_client, body):
    response = make_service_client("mini_auth").post(NEW, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_create_replays_with_the_same_key(make_service_client):
    client = make_service_client("mini_auth")
    headers = {"HTTP_IDEMPOTENCY_KEY": "register-alice-account"}
    first = client.post(NEW, {"username": "alice"}, format="json", **headers)
    again = client.post(NEW, {"username": "alice"}, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"


def test_invalid_idempotency_key_is_400(make_service_client):
    response = make_service_client("mini_auth").post(
        NEW, {"username": "alice"}, format="json", HTTP_IDEMPOTENCY_KEY="has space"
    )
    assert response.status_code == 400


# --- /account/balance and /account/full ----------------------------------------------------


def test_balance_of_the_caller(make_user_client):
    account = AccountFactory(username="alice", deposit="99.99")
    AccountFactory(username="bob", deposit="5")
    response = make_user_client("alice").get(BALANCE)
    assert response.status_code == 200
    assert response.json() == {"id": account.pk, "username": "alice", "balance": 99.99}


def test_balance_without_account_is_404(make_user_client):
    response = make_user_client("alice").get(BALANCE)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "account_not_found"


def test_balance_needs_a_user(anonymous_client, make_service_client):
    assert anonymous_client.get(BALANCE).status_code == 401
    assert make_service_client("mini_order").get(BALANCE).status_code == 401


def test_full_shows_the_latest_50_operations_newest_first(make_user_client):
    account = AccountFactory(username="alice")
    add_operations(account, 55)
    response = make_user_client("alice").get(FULL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "username", "balance", "createdAt", "operations"}
    assert body["balance"] == 55
    ids = [operation["id"] for operation in body["operations"]]
    assert len(ids) == 50
    assert ids == sorted(ids, reverse=True)
    assert ids[0] == Operation.objects.latest("id").pk
    assert body["operations"][0]["balance"] == 55


def test_full_only_shows_the_callers_operations(make_user_client):
    AccountFactory(username="alice", deposit="1")
    AccountFactory(username="bob", deposit="2")
    body = make_user_client("alice").get(FULL).json()
    assert [operation["amount"] for operation in body["operations"]] == [1]


def test_full_without_account_is_404(make_user_client):
    assert make_user_client("alice").get(FULL).json()["code"] == "account_not_found"


# --- /account/operations -------------------------------------------------------------------


def test_operations_are_paginated_newest_first(make_user_client):
    account = AccountFactory(username="alice")
    add_operations(account, 25)
    client = make_user_client("alice")
    first = client.get(OPERATIONS).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = client.get(OPERATIONS, {"page": 2}).json()
    assert len(second["results"]) == 5
    ids = [op["id"] for op in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    small = client.get(OPERATIONS, {"pageSize": 10, "page": 3}).json()
    assert len(small["results"]) == 5


def test_page_size_is_capped_at_100(make_user_client):
    account = AccountFactory(username="alice")
    add_operations(account, 101)
    body = make_user_client("alice").get(OPERATIONS, {"pageSize": 1000}).json()
    assert len(body["results"]) == 100


def test_operations_filter_by_order_id(make_user_client, make_service_client):
    account = AccountFactory(username="alice", deposit="100")
    operation_perform(
        username=account.username, operation_type="PAYMENT", amount=Decimal(10), order_id=7
    )
    operation_perform(
        username=account.username, operation_type="PAYMENT", amount=Decimal(20), order_id=8
    )
    body = make_service_client("mini_order", "alice").get(OPERATIONS, {"orderId": 7}).json()
    assert body["count"] == 1
    assert body["results"][0]["orderId"] == 7
    assert body["results"][0]["type"] == "PAYMENT"
    none = make_user_client("alice").get(OPERATIONS, {"orderId": 9}).json()
    assert none["count"] == 0


def test_operations_filter_by_type_case_insensitively(make_user_client):
    account = AccountFactory(username="alice", deposit="100")
    operation_perform(username=account.username, operation_type="WITHDRAWAL", amount=Decimal(1))
    body = make_user_client("alice").get(OPERATIONS, {"type": "withdrawal"}).json()
    assert [op["type"] for op in body["results"]] == ["WITHDRAWAL"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"orderId": "abc"}, "orderId"),
        ({"orderId": "1.5"}, "orderId"),
        ({"orderId": "0"}, "orderId"),
        ({"orderId": "-3"}, "orderId"),
        ({"orderId": ""}, "orderId"),
        ({"orderId": str(2**63)}, "orderId"),
        ({"type": "REFUND"}, "type"),
        ({"type": ""}, "type"),
    ],
)
def test_operations_bad_filters_are_400(make_user_client, params, field):
    AccountFactory(username="alice")
    response = make_user_client("alice").get(OPERATIONS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_operations_of_other_users_are_invisible(make_user_client):
    AccountFactory(username="alice", deposit="1")
    bob = AccountFactory(username="bob", deposit="2")
    operation_perform(
        username=bob.username, operation_type="PAYMENT", amount=Decimal(1), order_id=5
    )
    assert make_user_client("alice").get(OPERATIONS, {"orderId": 5}).json()["count"] == 0


def test_operations_without_account_is_404(make_service_client):
    response = make_service_client("mini_order", "alice").get(OPERATIONS, {"orderId": 1})
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"


def test_page_past_the_end_is_a_404_problem(make_user_client):
    AccountFactory(username="alice", deposit="1")
    response = make_user_client("alice").get(OPERATIONS, {"page": 5})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- shared endpoints ----------------------------------------------------------------------


def test_health_endpoints_need_no_token(anonymous_client):
    assert anonymous_client.get("/healthz").status_code == 200
    assert anonymous_client.get("/readyz").json()["status"] == "ready"


def test_unknown_url_is_problem_json(make_user_client):
    response = make_user_client("alice").get("/billing/account/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_schema_is_served(anonymous_client):
    response = anonymous_client.get("/docs/billing/schema.json")
    assert response.status_code == 200
