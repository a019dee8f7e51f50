from decimal import Decimal

import pytest

from billing.errors import BalanceLimitExceeded, InsufficientFunds, PaymentExists
from billing.models import MAX_BALANCE, Account, Operation
from billing.selectors import account_audit
from billing.services import account_create, operation_perform
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def perform(account, operation_type, amount, order_id=None):
    return operation_perform(
        username=account.username,
        operation_type=operation_type,
        amount=Decimal(amount),
        order_id=order_id,
    )


def test_account_create_is_idempotent():
    first, created = account_create(username="alice")
    again, created_again = account_create(username="alice")
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert first.balance == Decimal("0")


def test_each_operation_records_the_balance_after_it():
    account = AccountFactory(username="alice")
    deposit, _ = perform(account, "DEPOSIT", "10.10")
    withdrawal, _ = perform(account, "WITHDRAWAL", "0.10")
    payment, created = perform(account, "PAYMENT", "4", order_id=1)
    assert [deposit.balance_after, withdrawal.balance_after, payment.balance_after] == [
        Decimal("10.10"),
        Decimal("10.00"),
        Decimal("6.00"),
    ]
    assert created is True
    account.refresh_from_db()
    assert account.balance == Decimal("6.00")
    assert list(account_audit()) == []


def test_insufficient_funds_changes_nothing():
    account = AccountFactory(username="alice", deposit="5")
    with pytest.raises(InsufficientFunds):
        perform(account, "WITHDRAWAL", "5.01")
    with pytest.raises(InsufficientFunds):
        perform(account, "PAYMENT", "5.01", order_id=9)
    account.refresh_from_db()
    assert account.balance == Decimal("5.00")
    assert account.operations.count() == 1


def test_deposit_up_to_the_limit_and_not_past_it():
    account = AccountFactory(username="alice")
    Account.objects.filter(pk=account.pk).update(balance=MAX_BALANCE - Decimal("1"))
    perform(account, "DEPOSIT", "1")
    with pytest.raises(BalanceLimitExceeded):
        perform(account, "DEPOSIT", "0.01")
    account.refresh_from_db()
    assert account.balance == MAX_BALANCE


def test_float_column_of_sqlite_stays_exact():
    # 0.7 + 0.1 is 0.7999999999999999 in binary floating point: without rounding in
    # the UPDATE, SQLite would then refuse to withdraw 0.80.
    account = AccountFactory(username="alice", deposit="0.7")
    perform(account, "DEPOSIT", "0.1")
    perform(account, "WITHDRAWAL", "0.8")
    for amount in ["0.1", "0.2", "0.3"]:
        perform(account, "DEPOSIT", amount)
    perform(account, "WITHDRAWAL", "0.6")
    account.refresh_from_db()
    assert account.balance == 0
    assert list(account_audit()) == []


def test_repeated_payment_returns_the_recorded_one():
    account = AccountFactory(username="alice", deposit="50")
    first, created = perform(account, "PAYMENT", "50", order_id=3)
    again, created_again = perform(account, "PAYMENT", "50", order_id=3)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    account.refresh_from_db()
    assert account.balance == 0


def test_payment_with_another_amount_or_account_conflicts():
    alice = AccountFactory(username="alice", deposit="50")
    bob = AccountFactory(username="bob", deposit="50")
    perform(alice, "PAYMENT", "10", order_id=3)
    with pytest.raises(PaymentExists):
        perform(alice, "PAYMENT", "11", order_id=3)
    with pytest.raises(PaymentExists):
        perform(bob, "PAYMENT", "10", order_id=3)
    bob.refresh_from_db()
    assert bob.balance == Decimal("50.00")


def test_a_repeated_payment_hits_the_unique_constraint_and_answers_the_first():
    # No look-up before the debit: the partial unique constraint refuses the second
    # insert, the debit is rolled back with it, and the recorded payment is answered.
    account = AccountFactory(username="alice", deposit="100")
    winner, _ = perform(account, "PAYMENT", "10", order_id=3)
    again, created = perform(account, "PAYMENT", "10", order_id=3)
    assert (again.pk, created) == (winner.pk, False)
    account.refresh_from_db()
    assert account.balance == Decimal("90.00")
    assert Operation.objects.filter(order_id=3).count() == 1


def test_a_repeat_refused_on_the_balance_answers_the_first():
    # The first payment of the same order spent the balance: a duplicate of a success.
    account = AccountFactory(username="alice", deposit="10")
    winner, _ = perform(account, "PAYMENT", "10", order_id=3)
    again, created = perform(account, "PAYMENT", "10", order_id=3)
    assert (again.pk, created) == (winner.pk, False)


def test_unknown_type_and_payment_without_order_are_programming_errors():
    account = AccountFactory(username="alice", deposit="10")
    with pytest.raises(ValueError, match="Unknown operation type"):
        perform(account, "REFUND", "1")
    with pytest.raises(ValueError, match="needs an order_id"):
        perform(account, "PAYMENT", "1")
