import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from orders.audit import order_export
from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_order_export_has_what_the_audit_cross_checks():
    paid = OrderFactory(
        username="alice", status=Order.Status.PAID, notified_status=Order.Status.PAID
    )
    new = OrderFactory(username="bob", total_cost=Decimal("12.5"))

    assert list(order_export()) == [
        {
            "id": paid.pk,
            "username": "alice",
            "status": "PAID",
            "totalCost": "300.00",
            "notifiedStatus": "PAID",
        },
        {
            "id": new.pk,
            "username": "bob",
            "status": "NEW",
            "totalCost": "12.50",
            "notifiedStatus": "",
        },
    ]


def test_audit_export_prints_one_json_document():
    order = OrderFactory(status=Order.Status.INSUFFICIENT_FUNDS)
    out = StringIO()
    call_command("audit_export", stdout=out)

    document = json.loads(out.getvalue())
    assert document["service"] == "mini_order"
    assert [(o["id"], o["status"]) for o in document["orders"]] == [
        (order.pk, "INSUFFICIENT_FUNDS")
    ]
