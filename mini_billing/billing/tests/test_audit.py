import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing.audit import account_totals_export, payment_export
from billing.models import Account
from billing.services import account_create, operation_perform
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def perform(account, operation_type, amount, order_id=None):
    operation_perform(
        username=account.username,
        operation_type=operation_type,
        amount=Decimal(amount),
        order_id=order_id,
    )


def test_account_totals_sum_signed_operations():
    account_create(username="empty")
    alice = AccountFactory(username="alice", deposit="100")
    perform(alice, "PAYMENT", "33.33", order_id=7)
    perform(alice, "WITHDRAWAL", "0.67")

    assert list(account_totals_export()) == [
        {"username": "empty", "balance": "0.00", "operationsTotal": "0.00", "operations": 0},
        {"username": "alice", "balance": "66.00", "operationsTotal": "66.00", "operations": 3},
    ]


def test_a_tampered_balance_shows_next_to_its_operations():
    alice = AccountFactory(username="alice", deposit="100")
    Account.objects.filter(pk=alice.pk).update(balance=Decimal("90"))

    [row] = account_totals_export()
    assert (row["balance"], row["operationsTotal"]) == ("90.00", "100.00")


def test_payment_export_lists_every_payment_with_its_order_and_owner():
    alice = AccountFactory(username="alice", deposit="100")
    bob = AccountFactory(username="bob", deposit="100")
    perform(bob, "PAYMENT", "20", order_id=9)
    perform(alice, "PAYMENT", "12.5", order_id=3)
    perform(alice, "WITHDRAWAL", "1")

    assert [(p["orderId"], p["username"], p["amount"]) for p in payment_export()] == [
        (3, "alice", "12.50"),
        (9, "bob", "20.00"),
    ]


def test_audit_export_prints_one_json_document():
    alice = AccountFactory(username="alice", deposit="10")
    perform(alice, "PAYMENT", "4", order_id=1)
    out = StringIO()
    call_command("audit_export", stdout=out)

    document = json.loads(out.getvalue())
    assert document["service"] == "mini_billing"
    assert document["accounts"][0]["operationsTotal"] == "6.00"
    assert document["payments"][0]["orderId"] == 1
