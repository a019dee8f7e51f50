import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.audit import account_totals_export, payment_export
from billing.services import operation_perform, payment_void
from billing.story import order_story, user_story
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

OPERATE = "/billing/account/operate"


def pay(username, amount, order_id):
    operation_perform(
        username=username, operation_type="PAYMENT", amount=Decimal(amount), order_id=order_id
    )


def test_an_orders_story_has_its_payment_and_the_audits_row_of_it():
    AccountFactory(username="alice", deposit="100")
    pay("alice", "30", order_id=7)
    pay("alice", "5", order_id=8)

    story = order_story(order_id=7)

    [payment] = story["payments"]
    assert (payment["type"], payment["amount"], payment["balanceAfter"]) == (
        "PAYMENT",
        "30.00",
        "70.00",
    )
    assert (payment["orderId"], payment["username"]) == (7, "alice")
    assert story["voids"] == []
    assert story["audit"]["payments"] == [row for row in payment_export() if row["orderId"] == 7]


def test_a_refused_payment_is_billings_stored_answer_to_mini_order(make_service_client):
    AccountFactory(username="alice", deposit="10")
    client = make_service_client("mini_order", "alice")
    response = client.post(
        OPERATE,
        {"type": "PAYMENT", "amount": "50", "orderId": 4},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-4-payment",
    )
    assert response.status_code == 402

    story = order_story(order_id=4)

    assert story["payments"] == []
    [answer] = story["paymentRequests"]
    assert (answer["service"], answer["key"], answer["responseStatus"]) == (
        "mini_order",
        "order-4-payment",
        402,
    )
    assert answer["responseBody"]["code"] == "insufficient_funds"
    assert "fingerprint" not in answer


def test_a_clients_own_key_that_looks_like_an_orders_is_not_the_orders(make_user_client):
    AccountFactory(username="alice", deposit="10")
    response = make_user_client("alice").post(
        OPERATE,
        {"type": "DEPOSIT", "amount": "1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-4-payment",
    )
    assert response.status_code == 200

    assert order_story(order_id=4)["paymentRequests"] == []


def test_a_voided_payment_is_in_the_orders_story():
    AccountFactory(username="alice")
    payment_void(username="alice", order_id=5)

    [void] = order_story(order_id=5)["voids"]
    assert (void["orderId"], void["username"]) == (5, "alice")


def test_an_order_billing_never_heard_of_has_an_empty_story():
    assert order_story(order_id=99) == {
        "service": "mini_billing",
        "payments": [],
        "voids": [],
        "paymentRequests": [],
        "audit": {"payments": []},
    }


def test_a_users_story_lists_the_newest_operations_and_audits_them_all():
    AccountFactory(username="alice", deposit="100")
    AccountFactory(username="bob", deposit="100")
    pay("alice", "10", order_id=1)
    pay("alice", "20", order_id=2)
    pay("bob", "1", order_id=3)

    story = user_story(username="alice", limit=2)

    assert story["account"]["balance"] == "70.00"
    assert [(op["type"], op["orderId"]) for op in story["operations"]] == [
        ("PAYMENT", 2),
        ("PAYMENT", 1),
    ]
    assert story["operationsTotal"] == 3
    assert story["audit"]["accounts"] == [
        row for row in account_totals_export() if row["username"] == "alice"
    ]
    assert story["audit"]["payments"] == [
        row for row in payment_export() if row["username"] == "alice"
    ]


def test_a_users_story_has_the_payments_billing_refused(make_service_client):
    AccountFactory(username="alice", deposit="10")
    client = make_service_client("mini_order", "alice")
    for order_id, amount in ((1, "5"), (2, "50")):
        client.post(
            OPERATE,
            {"type": "PAYMENT", "amount": amount, "orderId": order_id},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"order-{order_id}-payment",
        )

    [refused] = user_story(username="alice", limit=10)["refusedPayments"]
    assert (refused["key"], refused["responseStatus"]) == ("order-2-payment", 402)


def test_a_user_without_an_account_has_none():
    story = user_story(username="nobody", limit=10)
    assert (story["account"], story["operations"], story["operationsTotal"]) == (None, [], 0)
    assert story["audit"] == {"accounts": [], "payments": []}


def test_the_commands_print_one_json_document():
    AccountFactory(username="alice", deposit="100")
    pay("alice", "10", order_id=1)
    out = StringIO()
    call_command("story_order", "1", stdout=out)
    assert json.loads(out.getvalue())["payments"][0]["orderId"] == 1

    out = StringIO()
    call_command("story_user", "alice", "--limit", "1", stdout=out)
    document = json.loads(out.getvalue())
    assert (document["service"], len(document["operations"])) == ("mini_billing", 1)


def test_story_user_refuses_a_limit_below_one():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("story_user", "alice", "--limit", "0")
