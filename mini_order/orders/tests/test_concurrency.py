"""What unique constraints and conditional updates guarantee under real concurrency (PostgreSQL)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from mini_common.testing import run_in_threads
from orders.models import Order
from orders.reconcile import orders_reconcile
from orders.services import order_create
from orders.tests.factories import OrderFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so nothing races",
    ),
]

THREADS = 6


def test_same_idempotency_key_creates_one_order():
    positions = [{"product_id": 1, "price": Decimal("150.00"), "quantity": 2}]

    def create():
        return order_create(
            username="alice",
            positions=positions,
            total_cost=Decimal("300.00"),
            idempotency_key="race-key",
        ).pk

    results = run_in_threads(lambda _: create(), THREADS)
    assert Order.objects.count() == 1
    assert results == [Order.objects.get().pk] * THREADS


def test_concurrent_reconcile_runs_transition_each_order_once(fake_remote):
    old = timezone.now() - timedelta(seconds=600)
    paid = [OrderFactory(created_at=old) for _ in range(5)]
    fake_remote.found_payment = "op-1"

    summaries = run_in_threads(lambda _: orders_reconcile(), THREADS)

    assert all(not isinstance(summary, Exception) for summary in summaries), summaries
    assert sum(summary.paid for summary in summaries) == len(paid)
    assert set(Order.objects.values_list("status", flat=True)) == {"PAID"}


def test_concurrent_reconcile_runs_cancel_each_order_once(fake_remote):
    old = timezone.now() - timedelta(seconds=5000)
    orders = [OrderFactory(created_at=old) for _ in range(5)]

    summaries = run_in_threads(lambda _: orders_reconcile(), THREADS)

    assert sum(summary.cancelled for summary in summaries) == len(orders)
    assert set(Order.objects.values_list("status", flat=True)) == {"CANCELLED"}
