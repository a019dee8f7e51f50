"""Real concurrent transactions: only PostgreSQL runs them in parallel with row locks."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from billing.errors import InsufficientFunds
from billing.models import Account, Operation
from billing.selectors import account_audit
from billing.services import account_create, operation_perform
from billing.tests.factories import AccountFactory
from mini_common.testing import service_client_for_tests

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency needs PostgreSQL (set DATABASE_URL=postgresql://...)",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def run_concurrently(count: int, work: Callable[[int], object]) -> list:
    """Run ``work(i)`` in ``count`` threads released together; results or exceptions, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[index] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def perform(username: str, operation_type: str, amount: str, order_id: int | None = None):
    account = Account.objects.get(username=username)
    operation, _created = operation_perform(
        account=account, operation_type=operation_type, amount=Decimal(amount), order_id=order_id
    )
    return operation


def test_parallel_withdrawals_never_overdraw():
    AccountFactory(username="alice", deposit="100")
    results = run_concurrently(THREADS, lambda _: perform("alice", "WITHDRAWAL", "20"))
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

    results = run_concurrently(THREADS, work)
    assert all(isinstance(r, Operation | InsufficientFunds) for r in results), results
    account = Account.objects.get(username="alice")
    assert account.balance >= 0
    assert list(account_audit()) == []


def test_parallel_payments_of_one_order_charge_once():
    AccountFactory(username="alice", deposit="30")
    results = run_concurrently(THREADS, lambda _: perform("alice", "PAYMENT", "30", order_id=42))
    assert all(isinstance(r, Operation) for r in results), results
    assert {r.pk for r in results} == {Operation.objects.get(order_id=42).pk}
    assert Account.objects.get(username="alice").balance == 0
    assert list(account_audit()) == []


def test_parallel_account_creation_creates_one():
    results = run_concurrently(THREADS, lambda _: account_create(username="alice"))
    assert sum(created for _account, created in results) == 1
    assert len({account.pk for account, _created in results}) == 1


def test_parallel_payment_requests_through_the_api():
    AccountFactory(username="alice", deposit="50")
    body = {"type": "PAYMENT", "amount": 50, "orderId": 7}

    def work(_index: int):
        client = service_client_for_tests("mini_order", "alice")
        return client.post("/billing/account/operate", body, format="json")

    responses = run_concurrently(10, work)
    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["id"] for r in responses}) == 1
    assert Account.objects.get(username="alice").balance == 0
