import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.audit import order_export
from orders.models import Order
from orders.story import order_story, user_story
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_an_orders_story_is_its_whole_row_with_positions_and_its_audit_row():
    order = OrderFactory(
        username="alice",
        status=Order.Status.PAID,
        notified_status=Order.Status.PAID,
        payment_operation_id="12",
        positions=[
            {"product_id": 1, "price": Decimal("100.00"), "quantity": 2},
            {"product_id": 5, "price": Decimal("50.00"), "quantity": 2},
        ],
    )
    OrderFactory(username="alice")

    story = order_story(order_id=order.pk)

    row = story["order"]
    assert (row["id"], row["username"], row["status"], row["totalCost"]) == (
        order.pk,
        "alice",
        "PAID",
        "300.00",
    )
    assert (row["notifiedStatus"], row["paymentOperationId"]) == ("PAID", "12")
    assert row["createdAt"] == order.created_at.isoformat()
    assert [(p["productId"], p["price"], p["quantity"]) for p in row["positions"]] == [
        (1, "100.00", 2),
        (5, "50.00", 2),
    ]
    assert "order" not in row["positions"][0] and "orderId" not in row["positions"][0]
    assert story["audit"]["orders"] == [r for r in order_export() if r["id"] == order.pk]


def test_an_unknown_order_has_no_row():
    assert order_story(order_id=404) == {
        "service": "mini_order",
        "order": None,
        "audit": {"orders": []},
    }


def test_a_users_story_lists_the_newest_orders_and_audits_them_all():
    first = OrderFactory(username="alice", status=Order.Status.INSUFFICIENT_FUNDS)
    second = OrderFactory(username="alice")
    third = OrderFactory(username="alice", status=Order.Status.PAID)
    OrderFactory(username="bob")

    story = user_story(username="alice", limit=2)

    assert [row["id"] for row in story["orders"]] == [third.pk, second.pk]
    assert story["ordersTotal"] == 3
    assert story["audit"]["orders"] == [
        row for row in order_export() if row["id"] in {first.pk, second.pk, third.pk}
    ]


def test_the_commands_print_one_json_document():
    order = OrderFactory(username="alice")
    out = StringIO()
    call_command("story_order", str(order.pk), stdout=out)
    assert json.loads(out.getvalue())["order"]["id"] == order.pk

    out = StringIO()
    call_command("story_user", "alice", stdout=out)
    document = json.loads(out.getvalue())
    assert (document["service"], document["ordersTotal"]) == ("mini_order", 1)


def test_story_user_refuses_a_limit_below_one():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("story_user", "alice", "--limit", "0")
