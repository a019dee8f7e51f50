"""Real concurrent transactions: only PostgreSQL runs them in parallel with row locks."""

from decimal import Decimal

import pytest
from django.db import connection

from billing.errors import InsufficientFunds
from billing.models import Account, Operation
from billing.selectors import account_audit
from billing.services import account_create, operation_perform
from billing.tests.factories import AccountFactory
from mini_common.testing import run_in_threads, service_client_for_tests

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency needs PostgreSQL (set DATABASE_URL=postgresql://...)",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def perform(username: str, operation_type: str, amount: str, order_id: int | None = None):
    account = Account.objects.get(username=username)
    operation, _created = operation_perform(
        username=account.username,
        operation_type=operation_type,
        amount=Decimal(amount),
        order_id=order_id,
    )
    return operation


def test_parallel_withdrawals_never_overdraw():
    AccountFactory(username="alice", deposit="100")
    results = run_in_threads(lambda _: perform("alice", "WITHDRAWAL", "20"), THREADS)
    succeeded = [r for r in results if isinstance(r, Operation)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert (len(succeeded), len(refused)) == (5, THREADS - 5)
    assert Account.objects.get(username="alice").balance == 0
    assert sorted(op.balance_after for op in succeeded) == [0, 20, 40, 60, 80]
    assert list(account_audit()) == []


def test_parallel_deposits_and_withdrawals_keep_the_ledger_consistent():
    AccountFactory(username="alice", deposit="10")

    def work(index: int):
        return perform("alice", "DEPOSIT" if index % 2 else "WITHDRAWAL", "7.77")

    results = run_in_threads(work, THREADS)
    assert all(isinstance(r, Operation | InsufficientFunds) for r in results), results
    account = Account.objects.get(username="alice")
    assert account.balance >= 0
    assert list(account_audit()) == []


def test_parallel_payments_of_one_order_charge_once():
    AccountFactory(username="alice", deposit="30")
    results = run_in_threads(lambda _: perform("alice", "PAYMENT", "30", order_id=42), THREADS)
    assert all(isinstance(r, Operation) for r in results), results
    assert {r.pk for r in results} == {Operation.objects.get(order_id=42).pk}
    assert Account.objects.get(username="alice").balance == 0
    assert list(account_audit()) == []


def test_parallel_account_creation_creates_one():
    results = run_in_threads(lambda _: account_create(username="alice"), THREADS)
    assert sum(created for _account, created in results) == 1
    assert len({account.pk for account, _created in results}) == 1


def test_parallel_payment_requests_through_the_api():
    AccountFactory(username="alice", deposit="50")
    body = {"type": "PAYMENT", "amount": 50, "orderId": 7}

    def work(_index: int):
        client = service_client_for_tests("mini_order", "alice")
        return client.post("/billing/account/operate", body, format="json")

    responses = run_in_threads(work, 10)
    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["id"] for r in responses}) == 1
    assert Account.objects.get(username="alice").balance == 0
