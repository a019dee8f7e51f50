"""The reconcile job: finish every order that a request left half-way.

1. NEW orders older than ORDER_RECONCILE_MIN_AGE are settled from mini_billing's
   records: a payment found makes the order PAID; none, and the order older than
   ORDER_RETRY_WINDOW, makes it CANCELLED; none inside the window leaves it NEW
   (its client may still retry). The job never takes a payment itself.
   A cancellation is made safe first: mini_billing declares the payment void,
   and a PAYMENT that arrives later (stalled in a billing worker) takes nothing.
2. Every CANCELLED order whose payment is not declared void yet (billing refused
   the payment request, or the order was cancelled without one) gets it declared
   void, or, if its payment happened after all, becomes PAID: billing's word
   on money is final.
3. Every PAID or INSUFFICIENT_FUNDS order whose notification is still owed gets
   it, under the same Idempotency-Key as the request used: never twice.

A request's lease on an order (``locked_until``) does not hold the job back: it
never takes money, and it cancels only orders past the retry window, whose
payment it has had declared void first. Safe to run at any time,
any number of times, concurrently: each transition is
a conditional UPDATE from the status that was read, so only one run makes it,
and no database lock is held across a remote call. An order whose dependency
is unavailable is skipped and counted; the next run takes it up again.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from mini_common.errors import DependencyUnavailable
from orders.models import Order
from orders.services import (
    NOTIFICATION_TYPES,
    Delivery,
    Settlement,
    order_notify,
    order_settle_from_billing,
    order_void_confirm,
)

logger = logging.getLogger("orders.reconcile")

Status = Order.Status


@dataclass
class ReconcileSummary:
    paid: int = 0  # NEW or CANCELLED orders whose payment was found
    cancelled: int = 0  # NEW orders abandoned without payment
    voided: int = 0  # CANCELLED orders whose payment was declared void now
    unpaid: int = 0  # NEW orders without payment, still inside the retry window
    notified: int = 0  # notifications delivered
    unavailable: int = 0  # orders skipped: a service could not answer
    undeliverable: int = 0  # notifications without contact data or refused by mini_notif


def orders_reconcile(
    *, now: datetime | None = None, order_ids: Collection[int] | None = None
) -> ReconcileSummary:
    """Settle and notify every order left half-way, or only those of ``order_ids``.

    The same rules either way (the admin's action passes the ids it selected):
    an order is never settled sooner or cancelled earlier because it was named.
    """
    now = now or timezone.now()
    summary = ReconcileSummary()
    orders = Order.objects.all() if order_ids is None else Order.objects.filter(pk__in=order_ids)
    _settle_new_orders(orders, now=now, summary=summary)
    _void_cancelled_orders(orders, summary=summary)
    _notify_final_orders(orders, summary=summary)
    if summary != ReconcileSummary():
        logger.info("reconcile: %s", summary)
    return summary


def _settle_new_orders(
    orders: QuerySet[Order], *, now: datetime, summary: ReconcileSummary
) -> None:
    settled_before = now - timedelta(seconds=settings.ORDER_RECONCILE_MIN_AGE)
    abandoned_before = now - timedelta(seconds=settings.ORDER_RETRY_WINDOW)
    candidates = orders.filter(status=Status.NEW, created_at__lte=settled_before)
    # Ids first, then each order fresh: another run may have settled it meanwhile.
    for order_id in list(candidates.order_by("created_at").values_list("pk", flat=True)):
        order = Order.objects.filter(pk=order_id, status=Status.NEW).first()
        if order is None:
            continue
        try:
            settlement = order_settle_from_billing(
                order=order, cancel_unpaid=order.created_at <= abandoned_before
            )
        except DependencyUnavailable as exc:
            logger.warning("order %s not settled: %s", order_id, exc.detail)
            summary.unavailable += 1
            continue
        if settlement == Settlement.PAID:
            summary.paid += 1
        elif settlement == Settlement.CANCELLED:
            summary.cancelled += 1
        elif settlement == Settlement.UNPAID:
            summary.unpaid += 1


def _void_cancelled_orders(orders: QuerySet[Order], *, summary: ReconcileSummary) -> None:
    unconfirmed = orders.filter(status=Status.CANCELLED, payment_voided=False)
    for order_id in list(unconfirmed.order_by("created_at").values_list("pk", flat=True)):
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            continue
        try:
            settlement = order_void_confirm(order=order)
        except DependencyUnavailable as exc:
            logger.warning("order %s: payment not declared void: %s", order_id, exc.detail)
            summary.unavailable += 1
            continue
        if settlement == Settlement.PAID:
            summary.paid += 1
        elif settlement == Settlement.CANCELLED:
            summary.voided += 1


def _notify_final_orders(orders: QuerySet[Order], *, summary: ReconcileSummary) -> None:
    owed = orders.filter(status__in=list(NOTIFICATION_TYPES)).exclude(notified_status=F("status"))
    for order_id in list(owed.order_by("created_at").values_list("pk", flat=True)):
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            continue
        delivery = order_notify(order=order)
        if delivery == Delivery.DELIVERED:
            summary.notified += 1
        elif delivery == Delivery.UNAVAILABLE:
            summary.unavailable += 1
        elif delivery == Delivery.UNDELIVERABLE:
            summary.undeliverable += 1
