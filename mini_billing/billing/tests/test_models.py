"""The database itself refuses what must never happen, whatever code runs against it."""

from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from billing.models import Account, ImmutableRowError, Operation
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def insert_operation(account, **fields):
    values = {"type": "DEPOSIT", "amount": Decimal(1), "balance_after": Decimal(1)} | fields
    with transaction.atomic():
        return Operation.objects.create(account=account, **values)


def test_balance_cannot_go_negative():
    account = AccountFactory(username="alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))


def test_balance_cannot_pass_the_limit():
    # PostgreSQL's NUMERIC(12, 2) overflows (DataError); SQLite relies on the CHECK.
    refused = DataError if connection.vendor == "postgresql" else IntegrityError
    account = AccountFactory(username="alice")
    with pytest.raises(refused), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("10000000000.00"))


def test_username_is_unique():
    AccountFactory(username="alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(username="alice")


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": Decimal(0)},
        {"amount": Decimal(-1)},
        {"balance_after": Decimal(-1)},
        {"type": "REFUND"},
        {"type": "PAYMENT"},  # without an order
        {"type": "PAYMENT", "order_id": 0},
        {"type": "DEPOSIT", "order_id": 5},
        {"type": "WITHDRAWAL", "order_id": 5},
    ],
)
def test_invalid_operations_are_refused(fields):
    account = AccountFactory(username="alice")
    with pytest.raises(IntegrityError):
        insert_operation(account, **fields)


def test_an_order_is_paid_at_most_once():
    alice = AccountFactory(username="alice")
    bob = AccountFactory(username="bob")
    insert_operation(alice, type="PAYMENT", order_id=7)
    with pytest.raises(IntegrityError):
        insert_operation(bob, type="PAYMENT", order_id=7)
    insert_operation(alice, type="PAYMENT", order_id=8)


def test_operations_are_immutable():
    account = AccountFactory(username="alice", deposit="5")
    operation = account.operations.get()
    operation.amount = Decimal(500)
    with pytest.raises(ImmutableRowError):
        operation.save()
    with pytest.raises(ImmutableRowError):
        operation.delete()
    with pytest.raises(ImmutableRowError):
        Operation.objects.filter(pk=operation.pk).update(amount=Decimal(500))
    with pytest.raises(ImmutableRowError):
        Operation.objects.all().delete()
    assert Operation.objects.get().amount == Decimal(5)


def test_saving_a_stale_account_does_not_overwrite_its_balance():
    account = AccountFactory(username="alice")
    stale = Account.objects.get(pk=account.pk)
    Account.objects.filter(pk=account.pk).update(balance=Decimal(10))
    stale.save()
    account.refresh_from_db()
    assert account.balance == Decimal(10)
    with pytest.raises(ValueError, match="only through"):
        stale.save(update_fields=["balance"])


def test_accounts_with_operations_cannot_be_deleted():
    account = AccountFactory(username="alice", deposit="5")
    with pytest.raises(Exception, match="protected"):
        account.delete()
