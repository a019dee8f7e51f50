from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from billing.models import Account, Operation
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

OPERATE = "/billing/account/operate"


def balance_of(username: str) -> Decimal:
    return Account.objects.get(username=username).balance


@pytest.fixture
def alice():
    return AccountFactory(username="alice", deposit="100")


@pytest.fixture
def as_alice(make_user_client):
    return make_user_client("alice")


@pytest.fixture
def order_service(make_service_client):
    return make_service_client("mini_order", "alice")


# --- DEPOSIT and WITHDRAWAL ----------------------------------------------------------------


def test_deposit_answers_the_operation_with_the_new_balance(alice, as_alice):
    response = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": 50.25}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "type", "amount", "balance", "orderId", "createdAt"}
    assert (body["type"], body["amount"], body["balance"], body["orderId"]) == (
        "DEPOSIT",
        50.25,
        150.25,
        None,
    )
    assert balance_of("alice") == Decimal("150.25")


def test_withdrawal_moves_the_balance_down(alice, as_alice):
    response = as_alice.post(OPERATE, {"type": "WITHDRAWAL", "amount": "30"}, format="json")
    assert response.status_code == 200
    assert response.json()["balance"] == 70
    assert balance_of("alice") == Decimal("70.00")


@pytest.mark.parametrize("spelling", ["deposit", "Deposit", "DEPOSIT", " deposit "])
def test_type_is_case_insensitive(alice, as_alice, spelling):
    response = as_alice.post(OPERATE, {"type": spelling, "amount": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["type"] == "DEPOSIT"


def test_withdrawal_above_the_balance_is_402_and_changes_nothing(alice, as_alice):
    response = as_alice.post(OPERATE, {"type": "WITHDRAWAL", "amount": "100.01"}, format="json")
    assert response.status_code == 402
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_funds"
    assert balance_of("alice") == Decimal("100.00")
    assert Operation.objects.filter(account=alice).count() == 1


def test_withdrawing_the_whole_balance_leaves_zero(alice, as_alice):
    response = as_alice.post(OPERATE, {"type": "WITHDRAWAL", "amount": 100}, format="json")
    assert response.status_code == 200
    assert response.json()["balance"] == 0


def test_deposit_past_the_balance_limit_is_422(as_alice):
    account = AccountFactory(username="alice")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("9999999000.00"))
    response = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": 1000}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "balance_limit_exceeded"
    assert balance_of("alice") == Decimal("9999999000.00")


@pytest.mark.parametrize("operation_type", ["DEPOSIT", "WITHDRAWAL"])
def test_missing_account_is_404(as_alice, operation_type):
    response = as_alice.post(OPERATE, {"type": operation_type, "amount": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"
    assert not Operation.objects.exists()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [0, -1, "-5", 0.001, "1.005", 1000000000, "1e3", "abc", "", True, False, None, [], {}, "NaN"],
)
def test_bad_amounts_are_400(alice, as_alice, amount):
    response = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": amount}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "amount" in response.json()["errors"]
    assert balance_of("alice") == Decimal("100.00")


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_and_huge_json_numbers_are_400(alice, as_alice, raw):
    body = f'{{"type": "DEPOSIT", "amount": {raw}}}'
    response = as_alice.post(OPERATE, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("amount, expected", [("0.01", 100.01), (999999999.99, 1000000099.99)])
def test_edge_amounts_are_accepted(alice, as_alice, amount, expected):
    response = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": amount}, format="json")
    assert response.status_code == 200
    assert response.json()["balance"] == expected


@pytest.mark.parametrize("operation_type", ["REFUND", "", 1, None, True, ["DEPOSIT"]])
def test_unknown_types_are_400(alice, as_alice, operation_type):
    response = as_alice.post(OPERATE, {"type": operation_type, "amount": 1}, format="json")
    assert response.status_code == 400
    assert "type" in response.json()["errors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": 1}, "type"),
        ({"type": "DEPOSIT"}, "amount"),
        ({"type": "DEPOSIT", "amount": 1, "balance": 1000}, "balance"),
        ({"type": "DEPOSIT", "amount": 1, "acount": {"username": "alice"}}, "acount"),
        ({"type": "DEPOSIT", "amount": 1, "account": "alice"}, "account"),
        ({"type": "DEPOSIT", "amount": 1, "account": {}}, "account"),
        ({"type": "DEPOSIT", "amount": 1, "account": {"username": "a b"}}, "account"),
        ({"type": "DEPOSIT", "amount": 1, "account": {"username": "alice", "x": 1}}, "account"),
        ({"type": "DEPOSIT", "amount": 1, "orderId": 5}, "orderId"),
    ],
)
def test_invalid_bodies_are_400_with_the_field(alice, as_alice, body, field):
    response = as_alice.post(OPERATE, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("body", ["", "[]", "null", '"DEPOSIT"', "{nope"])
def test_bodies_that_are_not_an_object_are_400(alice, as_alice, body):
    response = as_alice.post(OPERATE, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_null_order_id_and_account_mean_absent(alice, as_alice):
    body = {"type": "DEPOSIT", "amount": 1, "orderId": None, "account": None}
    assert as_alice.post(OPERATE, body, format="json").status_code == 200


# --- who may do what -----------------------------------------------------------------------


def test_own_account_may_be_named(alice, as_alice):
    body = {"type": "DEPOSIT", "amount": 1, "account": {"username": "alice"}}
    assert as_alice.post(OPERATE, body, format="json").status_code == 200


@pytest.mark.parametrize("target", ["bob", "nobody"])
def test_another_users_account_is_403_whether_it_exists_or_not(alice, make_user_client, target):
    AccountFactory(username="bob", deposit="10")
    body = {"type": "WITHDRAWAL", "amount": 1, "account": {"username": target}}
    response = make_user_client("alice").post(OPERATE, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert balance_of("bob") == Decimal("10.00")


def test_admin_may_operate_on_any_account(alice, make_user_client):
    body = {"type": "DEPOSIT", "amount": 5, "account": {"username": "alice"}}
    response = make_user_client("root", roles="user,admin").post(OPERATE, body, format="json")
    assert response.status_code == 200
    assert balance_of("alice") == Decimal("105.00")


def test_user_may_not_pay(alice, as_alice):
    body = {"type": "PAYMENT", "amount": 10, "orderId": 1}
    response = as_alice.post(OPERATE, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert balance_of("alice") == Decimal("100.00")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "PAYMENT", "amount": 5},  # no orderId: still the caller's problem first
        {"type": " payment ", "amount": "nonsense", "unknown": 1},
        {"type": "Payment", "orderId": "x"},
    ],
)
def test_a_users_payment_is_refused_before_its_body_is_validated(alice, as_alice, body):
    response = as_alice.post(OPERATE, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert balance_of("alice") == Decimal("100.00")


def test_an_internal_callers_payment_without_order_is_still_a_400(alice, order_service):
    response = order_service.post(OPERATE, {"type": "PAYMENT", "amount": 5}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"orderId"}


def test_admin_through_the_gateway_may_not_pay_either(alice, make_user_client):
    body = {"type": "payment", "amount": 10, "orderId": 1, "account": {"username": "alice"}}
    response = make_user_client("root", roles="admin").post(OPERATE, body, format="json")
    assert response.status_code == 403


def test_anonymous_and_tokenless_callers_are_401(alice, anonymous_client, make_user_client):
    body = {"type": "DEPOSIT", "amount": 1}
    assert anonymous_client.post(OPERATE, body, format="json").status_code == 401
    assert make_user_client(None).post(OPERATE, body, format="json").status_code == 401


# --- PAYMENT (internal) --------------------------------------------------------------------


def test_internal_payment(alice, order_service):
    body = {"type": "PAYMENT", "amount": "40.50", "orderId": 17}
    response = order_service.post(OPERATE, body, format="json")
    assert response.status_code == 200
    assert response.json()["orderId"] == 17
    assert response.json()["balance"] == 59.5
    assert balance_of("alice") == Decimal("59.50")


def test_payment_from_a_missing_account_is_404(make_service_client):
    body = {"type": "PAYMENT", "amount": 1, "orderId": 4}
    response = make_service_client("mini_order", "nobody").post(OPERATE, body, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"


@pytest.mark.django_db(transaction=True)
def test_a_payment_costs_five_statements(alice, order_service):
    # The hot path's database work, pinned so that an added round trip shows
    # up here: the key claimed, the balance moved (found by username, no read
    # first), the look for the order's void (while the row is held:
    # services.payment_void), the operation, and the key's stored answer.
    # (Transaction control not counted.)
    body = {"type": "PAYMENT", "amount": 5, "orderId": 21}
    with CaptureQueriesContext(connection) as queries:
        response = order_service.post(OPERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="k-21")
    assert response.status_code == 200
    verbs = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    data = [verb for verb in verbs if verb not in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}]
    assert data == ["INSERT", "UPDATE", "SELECT", "INSERT", "UPDATE"]


def test_internal_caller_may_name_the_account_instead_of_x_username(alice, make_service_client):
    body = {"type": "PAYMENT", "amount": 1, "orderId": 3, "account": {"username": "alice"}}
    response = make_service_client("mini_order").post(OPERATE, body, format="json")
    assert response.status_code == 200


def test_internal_caller_must_name_some_account(alice, make_service_client):
    body = {"type": "PAYMENT", "amount": 1, "orderId": 3}
    response = make_service_client("mini_order").post(OPERATE, body, format="json")
    assert response.status_code == 400
    assert "account" in response.json()["errors"]


@pytest.mark.parametrize("order_id", [None, 0, -1, 1.5, "x", "17.0", True, 2**63])
def test_payment_needs_a_positive_integer_order_id(alice, order_service, order_id):
    body = {"type": "PAYMENT", "amount": 1, "orderId": order_id}
    response = order_service.post(OPERATE, body, format="json")
    assert response.status_code == 400
    assert "orderId" in response.json()["errors"]


def test_payment_above_the_balance_is_402(alice, order_service):
    body = {"type": "PAYMENT", "amount": 100.01, "orderId": 17}
    response = order_service.post(OPERATE, body, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_funds"
    assert balance_of("alice") == Decimal("100.00")
    assert not Operation.objects.filter(order_id=17).exists()


def test_same_payment_again_returns_the_recorded_one(alice, order_service):
    body = {"type": "PAYMENT", "amount": 60, "orderId": 17}
    first = order_service.post(OPERATE, body, format="json")
    again = order_service.post(OPERATE, body, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert balance_of("alice") == Decimal("40.00")
    assert Operation.objects.filter(order_id=17).count() == 1


def test_same_payment_again_is_200_even_when_the_balance_no_longer_covers_it(alice, order_service):
    body = {"type": "PAYMENT", "amount": 100, "orderId": 17}
    first = order_service.post(OPERATE, body, format="json")
    again = order_service.post(OPERATE, body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_other_amount_for_a_paid_order_is_409(alice, order_service):
    order_service.post(OPERATE, {"type": "PAYMENT", "amount": 60, "orderId": 17}, format="json")
    response = order_service.post(
        OPERATE, {"type": "PAYMENT", "amount": 61, "orderId": 17}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "payment_exists"
    assert balance_of("alice") == Decimal("40.00")


def test_other_account_for_a_paid_order_is_409(alice, order_service, make_service_client):
    AccountFactory(username="bob", deposit="100")
    order_service.post(OPERATE, {"type": "PAYMENT", "amount": 60, "orderId": 17}, format="json")
    response = make_service_client("mini_order", "bob").post(
        OPERATE, {"type": "PAYMENT", "amount": 60, "orderId": 17}, format="json"
    )
    assert response.status_code == 409
    assert balance_of("bob") == Decimal("100.00")


# --- Idempotency-Key -----------------------------------------------------------------------


def test_replay_with_the_same_key_moves_money_once(alice, as_alice):
    headers = {"HTTP_IDEMPOTENCY_KEY": "withdraw-1"}
    body = {"type": "WITHDRAWAL", "amount": 30}
    first = as_alice.post(OPERATE, body, format="json", **headers)
    again = as_alice.post(OPERATE, body, format="json", **headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert balance_of("alice") == Decimal("70.00")
    assert Operation.objects.filter(type="WITHDRAWAL").count() == 1


def test_a_replay_counts_the_operation_once(alice, as_alice, django_capture_on_commit_callbacks):
    # The replay runs the deposit again and rolls it back with its taken key:
    # the metric is written on commit, so only the first one counts.
    labels = {"type": "DEPOSIT", "outcome": "done"}
    before = REGISTRY.get_sample_value("mini_billing_operations_total", labels) or 0.0
    body = {"type": "DEPOSIT", "amount": 3}
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            as_alice.post(OPERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="k-once")
    assert REGISTRY.get_sample_value("mini_billing_operations_total", labels) == before + 1
    assert balance_of("alice") == Decimal("103.00")


def test_same_key_with_another_body_is_422(alice, as_alice):
    headers = {"HTTP_IDEMPOTENCY_KEY": "withdraw-1"}
    as_alice.post(OPERATE, {"type": "WITHDRAWAL", "amount": 30}, format="json", **headers)
    response = as_alice.post(
        OPERATE, {"type": "WITHDRAWAL", "amount": 31}, format="json", **headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert balance_of("alice") == Decimal("70.00")


def test_a_402_is_replayed_as_402(alice, as_alice):
    headers = {"HTTP_IDEMPOTENCY_KEY": "big-withdrawal"}
    body = {"type": "WITHDRAWAL", "amount": 500}
    assert as_alice.post(OPERATE, body, format="json", **headers).status_code == 402
    as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": 1000}, format="json")
    again = as_alice.post(OPERATE, body, format="json", **headers)
    assert again.status_code == 402
    assert again["Idempotent-Replayed"] == "true"
    assert balance_of("alice") == Decimal("1100.00")


def test_a_400_stores_nothing_so_a_corrected_retry_works(alice, as_alice):
    headers = {"HTTP_IDEMPOTENCY_KEY": "deposit-1"}
    bad = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": -1}, format="json", **headers)
    good = as_alice.post(OPERATE, {"type": "DEPOSIT", "amount": 1}, format="json", **headers)
    assert (bad.status_code, good.status_code) == (400, 200)


def test_keys_are_scoped_by_user(alice, make_user_client):
    AccountFactory(username="bob", deposit="100")
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    body = {"type": "WITHDRAWAL", "amount": 10}
    make_user_client("alice").post(OPERATE, body, format="json", **headers)
    response = make_user_client("bob").post(OPERATE, body, format="json", **headers)
    assert "Idempotent-Replayed" not in response
    assert balance_of("bob") == Decimal("90.00")


def test_internal_payment_key_derived_from_the_order(alice, order_service):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-17-payment"}
    body = {"type": "PAYMENT", "amount": 60, "orderId": 17}
    first = order_service.post(OPERATE, body, format="json", **headers)
    again = order_service.post(OPERATE, body, format="json", **headers)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert balance_of("alice") == Decimal("40.00")


def test_get_is_not_allowed_on_operate(as_alice):
    response = as_alice.get(OPERATE)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
