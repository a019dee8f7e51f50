"""The reconcile job: NEW orders settled from billing's records, owed notifications sent."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from mini_common.errors import DependencyUnavailable
from orders.models import Order
from orders.reconcile import ReconcileSummary, orders_reconcile
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _window(settings):
    settings.ORDER_RETRY_WINDOW = 900
    settings.ORDER_RECONCILE_MIN_AGE = 10


def new_order(age_seconds: float, **fields) -> Order:
    return OrderFactory(created_at=timezone.now() - timedelta(seconds=age_seconds), **fields)


def test_payment_found_makes_the_order_paid_and_notified(fake_remote):
    order = new_order(60, username="alice")
    fake_remote.found_payment = "op-5"

    summary = orders_reconcile()

    order.refresh_from_db()
    assert (order.status, order.payment_operation_id, order.notified_status) == (
        "PAID",
        "op-5",
        "PAID",
    )
    assert summary == ReconcileSummary(paid=1, notified=1)
    assert fake_remote.called("payment_find") == [
        {"order_id": order.pk, "username": "alice", "amount": Decimal("300.00")}
    ]
    [notification] = fake_remote.called("notification_send")
    assert notification["idempotency_key"] == f"order-{order.pk}-notification-PAID"
    assert notification["notification_type"] == "SUCCESS"
    assert fake_remote.called("payment_take") == []


def test_no_payment_and_older_than_the_window_cancels_once_billing_voided_it(fake_remote):
    order = new_order(901, username="alice")
    summary = orders_reconcile()
    order.refresh_from_db()
    assert (order.status, order.payment_voided) == ("CANCELLED", True)
    assert summary == ReconcileSummary(cancelled=1)
    assert fake_remote.called("payment_void") == [
        {"order_id": order.pk, "username": "alice", "amount": Decimal("300.00")}
    ]
    assert fake_remote.called("payment_find") == []  # the void answers whether it was paid
    assert fake_remote.called("notification_send") == []
    assert fake_remote.called("payment_take") == []


def test_a_payment_found_by_the_void_makes_the_order_paid(fake_remote):
    order = new_order(901)
    fake_remote.voided_payment = "op-8"
    assert orders_reconcile() == ReconcileSummary(paid=1, notified=1)
    order.refresh_from_db()
    assert (order.status, order.payment_operation_id, order.payment_voided) == (
        "PAID",
        "op-8",
        False,
    )


def test_billing_unavailable_for_the_void_leaves_the_order_new(fake_remote):
    order = new_order(901)
    fake_remote.voided_payment = DependencyUnavailable("billing")
    assert orders_reconcile() == ReconcileSummary(unavailable=1)
    order.refresh_from_db()
    assert order.status == "NEW"


def test_a_cancelled_order_without_a_void_gets_one(fake_remote):
    # Cancelled when billing refused the payment request, or left so by the migration.
    order = new_order(5000, status="CANCELLED")
    assert orders_reconcile() == ReconcileSummary(voided=1)
    assert orders_reconcile() == ReconcileSummary()
    order.refresh_from_db()
    assert (order.status, order.payment_voided) == ("CANCELLED", True)
    assert len(fake_remote.called("payment_void")) == 1


def test_a_cancelled_order_that_was_paid_after_all_becomes_paid_and_is_notified(fake_remote):
    # Billing's word on money is final: a stalled PAYMENT committed after the cancel.
    order = new_order(5000, status="CANCELLED")
    fake_remote.voided_payment = "op-late"
    assert orders_reconcile() == ReconcileSummary(paid=1, notified=1)
    order.refresh_from_db()
    assert (order.status, order.notified_status, order.payment_operation_id) == (
        "PAID",
        "PAID",
        "op-late",
    )
    [notification] = fake_remote.called("notification_send")
    assert notification["notification_type"] == "SUCCESS"


def test_no_payment_inside_the_window_leaves_the_order_new(fake_remote):
    order = new_order(600)
    summary = orders_reconcile()
    order.refresh_from_db()
    assert order.status == "NEW"
    assert summary == ReconcileSummary(unpaid=1)


def test_orders_younger_than_the_minimum_age_are_left_to_their_request(fake_remote):
    new_order(2)
    assert orders_reconcile() == ReconcileSummary()
    assert fake_remote.calls == []


def test_a_lease_left_by_a_killed_request_does_not_hold_the_order_back(fake_remote):
    # Its request died after billing took the money, before the final UPDATE.
    order = new_order(60, locked_until=timezone.now() + timedelta(seconds=50))
    fake_remote.found_payment = "op-6"

    assert orders_reconcile() == ReconcileSummary(paid=1, notified=1)

    order.refresh_from_db()
    assert (order.status, order.notified_status, order.locked_until) == ("PAID", "PAID", None)


def test_the_window_comes_from_settings(fake_remote, settings):
    settings.ORDER_RETRY_WINDOW = 60
    order = new_order(61)
    orders_reconcile()
    order.refresh_from_db()
    assert order.status == "CANCELLED"


def test_now_can_be_given(fake_remote):
    order = new_order(0)
    orders_reconcile(now=timezone.now() + timedelta(seconds=1000))
    order.refresh_from_db()
    assert order.status == "CANCELLED"


def test_billing_unavailable_skips_the_order_and_goes_on(fake_remote):
    first, second = new_order(1000), new_order(999)
    fake_remote.voided_payment = [DependencyUnavailable("billing"), None]

    summary = orders_reconcile()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("NEW", "CANCELLED")
    assert summary == ReconcileSummary(cancelled=1, unavailable=1)


@pytest.mark.parametrize("status, kind", [("PAID", "SUCCESS"), ("INSUFFICIENT_FUNDS", "FAIL")])
def test_owed_notifications_are_delivered_once(fake_remote, status, kind):
    order = new_order(5, status=status)
    OrderFactory(status=status, notified_status=status)  # already notified
    OrderFactory(status="CANCELLED", payment_voided=True)  # owes nothing

    assert orders_reconcile() == ReconcileSummary(notified=1)
    assert orders_reconcile() == ReconcileSummary()

    [notification] = fake_remote.called("notification_send")
    assert notification["order_id"] == order.pk
    assert notification["notification_type"] == kind
    assert notification["idempotency_key"] == f"order-{order.pk}-notification-{status}"
    order.refresh_from_db()
    assert order.notified_status == status


def test_unavailable_notification_is_counted_and_retried_next_run(fake_remote):
    order = new_order(5, status="PAID")
    fake_remote.notification = DependencyUnavailable("notif")
    assert orders_reconcile() == ReconcileSummary(unavailable=1)
    fake_remote.notification = True
    assert orders_reconcile() == ReconcileSummary(notified=1)
    order.refresh_from_db()
    assert order.notified_status == "PAID"


def test_undeliverable_notification_is_counted(fake_remote):
    new_order(5, status="PAID")
    fake_remote.contact = None
    assert orders_reconcile() == ReconcileSummary(undeliverable=1)


def test_final_and_cancelled_orders_are_not_settled_again(fake_remote):
    for status in ("PAID", "INSUFFICIENT_FUNDS", "CANCELLED"):
        cancelled = status == "CANCELLED"
        new_order(5000, status=status, notified_status="" if cancelled else status)
    Order.objects.filter(status="CANCELLED").update(payment_voided=True)
    assert orders_reconcile() == ReconcileSummary()
    assert fake_remote.calls == []


def test_management_command_prints_the_summary(fake_remote):
    new_order(1000)
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "cancelled 1" in out.getvalue()
