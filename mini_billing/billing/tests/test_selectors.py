from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.models import Account
from billing.selectors import account_audit, account_check, operation_list
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


def test_operation_list_filters():
    account = AccountFactory(username="alice", deposit="100")
    perform(account, "PAYMENT", "10", order_id=1)
    perform(account, "WITHDRAWAL", "10")
    assert [op.type for op in operation_list(account=account)] == [
        "WITHDRAWAL",
        "PAYMENT",
        "DEPOSIT",
    ]
    assert [op.order_id for op in operation_list(account=account, order_id=1)] == [1]
    assert operation_list(account=account, operation_type="DEPOSIT").count() == 1


def test_consistent_ledger_has_no_problems():
    account_create(username="empty")
    account = AccountFactory(username="alice", deposit="100")
    perform(account, "PAYMENT", "33.33", order_id=1)
    perform(account, "WITHDRAWAL", "0.67")
    assert list(account_audit()) == []


def test_audit_finds_a_balance_that_differs_from_its_operations():
    account = AccountFactory(username="alice", deposit="100")
    AccountFactory(username="bob", deposit="1")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("90"))
    problems = list(account_audit())
    assert {(p.username, p.code) for p in problems} == {
        ("alice", "balance_mismatch"),
        ("alice", "last_operation_mismatch"),
    }


def test_audit_finds_money_without_operations():
    account = AccountFactory(username="alice")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("5"))
    assert [p.code for p in account_audit()] == ["balance_mismatch"]


def test_account_check_flags_a_negative_balance():
    # The database refuses a negative balance, so the check is exercised directly.
    problems = account_check(
        username="alice",
        balance=Decimal("-1"),
        operations_total=Decimal("-1"),
        last_balance_after=Decimal("-1"),
    )
    assert [str(p) for p in problems] == ["alice: negative_balance: balance is -1"]


def test_audit_command_passes_on_a_consistent_ledger():
    AccountFactory(username="alice", deposit="100")
    out = StringIO()
    call_command("audit_billing", stdout=out)
    assert "no problems" in out.getvalue()


def test_audit_command_prints_problems_and_fails():
    account = AccountFactory(username="alice", deposit="100")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("1"))
    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("audit_billing", stdout=out)
    assert "alice: balance_mismatch" in out.getvalue()
