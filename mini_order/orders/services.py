"""Writes: placing an order and finishing it, one atomic phase per remote step.

1. The order is committed NEW with the client's Idempotency-Key and a lease
   (``locked_until``) held by this request. The order row is the key's record:
   a retry of the same request resumes this order instead of creating another,
   and while the lease is live it gets 409 ``request_in_progress``.
2. mini_billing takes the payment (key ``order-<id>-payment``: at most once).
3. mini_notif gets the notification the outcome owes (key
   ``order-<id>-notification-<status>``: never twice). Then one conditional
   UPDATE from NEW commits the final status, the delivery (``notified_status``)
   and the end of the lease, as the ADR orders it: notify, then set PAID.

Nothing local is written between the two remote calls: the recovery point of
the payment is mini_billing's record of it, under a key derived from the order.
A crash or an unavailable service between two phases leaves a state that a
retry of the request or ``reconcile`` finishes (a NEW order whose payment
billing has is made PAID and notified; the same notification key makes the
second delivery a replay). A failed notification never undoes a payment.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from mini_common import metrics
from mini_common.conf import mini_setting
from mini_common.db import update_if_unchanged
from mini_common.errors import DependencyUnavailable, ValidationFailed
from mini_common.idempotency import Claim, Claimed, claim_row
from mini_common.money import MAX_AMOUNT, money_json
from orders import remote
from orders.contacts import contact_get
from orders.errors import OrderCancelled, PaymentRejected, TotalMismatch
from orders.models import Order, OrderPosition

logger = logging.getLogger("orders.services")

Status = Order.Status
# The notification each final status owes the user.
NOTIFICATION_TYPES = {Status.PAID.value: "SUCCESS", Status.INSUFFICIENT_FUNDS.value: "FAIL"}


class PositionData(TypedDict):
    product_id: int
    price: Decimal
    quantity: int


class Delivery(StrEnum):
    DELIVERED = "DELIVERED"
    NOT_DUE = "NOT_DUE"  # not final yet, or already delivered
    UNAVAILABLE = "UNAVAILABLE"  # mini_user or mini_notif cannot answer now
    UNDELIVERABLE = "UNDELIVERABLE"  # no contact data, or mini_notif refused it


def payment_key(order_id: int) -> str:
    return f"order-{order_id}-payment"


def notification_key(order_id: int, status: str) -> str:
    return f"order-{order_id}-notification-{status}"


def order_payment_deadline(order: Order) -> datetime:
    """After this moment no request takes the order's payment any more.

    It precedes the end of the retry window by a margin longer than any request
    lasts, so a payment call has finished before ``reconcile`` may cancel the order.
    """
    window = settings.ORDER_RETRY_WINDOW
    margin = min(2 * mini_setting("REQUEST_BUDGET"), window / 2)
    return order.created_at + timedelta(seconds=window - margin)


def order_total_resolve(
    *, positions: Sequence[PositionData], total_cost: Decimal | None
) -> Decimal:
    """The order's total: the sum of its positions, which a given totalCost must equal."""
    computed = sum((p["price"] * p["quantity"] for p in positions), Decimal("0.00"))
    if computed > MAX_AMOUNT:
        raise ValidationFailed(
            "The order total is too large",
            errors={"totalCost": [f"The sum of the positions must not exceed {MAX_AMOUNT}."]},
        )
    if total_cost is not None and total_cost != computed:
        raise TotalMismatch(
            f"totalCost is {total_cost} but the positions add up to {computed}",
            extra={"expectedTotalCost": money_json(computed)},
        )
    if computed <= 0:
        raise ValidationFailed(
            "The order total must be greater than zero",
            errors={"totalCost": ["The sum of the positions must be greater than zero."]},
        )
    return computed


def _same_order(order: Order, *, shop_id: int | None, total_cost: Decimal, positions) -> bool:
    stored = [(p.product_id, p.price, p.quantity) for p in order.position_list]
    wanted = [(p["product_id"], p["price"], p["quantity"]) for p in positions]
    return order.shop_id == shop_id and order.total_cost == total_cost and stored == wanted


def order_create(
    *,
    username: str,
    positions: Sequence[PositionData],
    total_cost: Decimal,
    shop_id: int | None = None,
    idempotency_key: str | None = None,
) -> Claimed[Order]:
    """Commit a NEW order held by this request, or claim the order this key created.

    The order row is the key's record (``claim_row``): CREATED, RESUMED (work
    was left on it: its lease is this request's now) or FINAL (final and
    notified: only answered).
    """
    wanted = {"shop_id": shop_id, "total_cost": total_cost, "positions": positions}
    scope = {"username": username, "idempotency_key": idempotency_key or ""}

    def create(lease: datetime) -> Order:
        with transaction.atomic():
            order = Order.objects.create(
                **scope, shop_id=shop_id, total_cost=total_cost, locked_until=lease
            )
            order.position_list = OrderPosition.objects.bulk_create(
                OrderPosition(order=order, **position) for position in positions
            )
        return order

    def find() -> Order | None:
        if not idempotency_key:
            return None
        return Order.objects.prefetch_related("positions").filter(**scope).first()

    claimed = claim_row(
        create=create,
        find=find,
        same_request=lambda order: _same_order(order, **wanted),
        finished=lambda order: order.status != Status.NEW and not _notification_owed(order),
    )
    if claimed.claim == Claim.CREATED:
        metrics.order_status_observed(Status.NEW)
    elif claimed.claim == Claim.RESUMED:
        order = claimed.row
        logger.info("resuming order %s (%s)", order.pk, order.status, extra={"order_id": order.pk})
    return claimed


def _lease_released(order: Order) -> None:
    """End this request's lease on an order it leaves unfinished, so a retry may resume it."""
    if order.locked_until is None:
        return
    try:
        update_if_unchanged(order, where={"locked_until": order.locked_until}, locked_until=None)
    except DatabaseError:
        logger.warning("order %s: lease not released, it expires by itself", order.pk)


def _transition(order: Order, *, to: str, sources: Sequence[str], **fields) -> bool:
    """Move the order from one of ``sources`` to ``to``; False when another actor moved it first.

    The move ends any lease on the order. ``order`` is brought up to date in
    place: from the values written when the move happened, from the database
    when another actor's move won.
    """
    moved = update_if_unchanged(
        order,
        where={"status__in": sources},
        status=to,
        updated_at=timezone.now(),
        locked_until=None,
        **fields,
    )
    if moved:
        metrics.order_status_observed(to)
    return moved


class Settlement(StrEnum):
    PAID = "PAID"  # its payment was found: this call made the order PAID
    CANCELLED = "CANCELLED"  # no payment and abandoned: this call cancelled it
    UNPAID = "UNPAID"  # no payment yet: left NEW
    UNCHANGED = "UNCHANGED"  # another request or run settled it first


def _order_mark_paid(order: Order, *, operation_id: str, **fields) -> bool:
    fields["payment_operation_id"] = operation_id
    if _transition(order, to=Status.PAID, sources=[Status.NEW], **fields):
        return True
    # mini_billing's word is final: money that was taken makes the order PAID, even
    # one cancelled meanwhile (never money taken without PAID).
    if _transition(order, to=Status.PAID, sources=[Status.CANCELLED], **fields):
        logger.error("order %s was cancelled but its payment happened: now PAID", order.pk)
        return True
    return False


def _settled_paid(order: Order, *, operation_id: str) -> Settlement:
    paid = _order_mark_paid(order, operation_id=operation_id)
    return Settlement.PAID if paid else Settlement.UNCHANGED


def order_settle_from_billing(*, order: Order, cancel_unpaid: bool) -> Settlement:
    """Settle a NEW order from what mini_billing knows, without ever moving money.

    Its payment found: PAID. None, and ``cancel_unpaid``: mini_billing declares
    the payment void first, then the order is CANCELLED, so no PAYMENT still on
    its way (stalled in a billing worker) can take money for it afterwards.
    Otherwise it stays NEW. ``order`` is refreshed in place.
    """
    ask = remote.payment_void if cancel_unpaid else remote.payment_find
    operation_id = ask(order_id=order.pk, username=order.username, amount=order.total_cost)
    if operation_id is not None:
        return _settled_paid(order, operation_id=operation_id)
    if not cancel_unpaid:
        return Settlement.UNPAID
    if _transition(order, to=Status.CANCELLED, sources=[Status.NEW], payment_voided=True):
        logger.info("order %s cancelled: never paid", order.pk, extra={"order_id": order.pk})
        return Settlement.CANCELLED
    return Settlement.UNCHANGED


def order_void_confirm(*, order: Order) -> Settlement:
    """Make sure a CANCELLED order is never paid: its payment declared void in mini_billing.

    For orders cancelled without that (billing refused the payment request, or
    a CANCELLED row the migration found). If the payment did happen, mini_billing's
    word is final: the order becomes PAID (and owes its notification).
    """
    if order.status != Status.CANCELLED or order.payment_voided:
        return Settlement.UNCHANGED
    operation_id = remote.payment_void(
        order_id=order.pk, username=order.username, amount=order.total_cost
    )
    if operation_id is not None:
        return _settled_paid(order, operation_id=operation_id)
    update_if_unchanged(order, where={"status": Status.CANCELLED}, payment_voided=True)
    return Settlement.CANCELLED


def order_pay(*, order: Order, now: datetime | None = None) -> Order:
    """Phases 2 and 3: take the payment of a NEW order and notify its outcome, then commit both.

    One UPDATE from NEW writes the final status, the delivery and the end of
    the lease. The order comes back with its new status. Raises
    DependencyUnavailable (the order stays NEW) and PaymentRejected (CANCELLED).
    """
    if order.status != Status.NEW:
        return order
    if (now or timezone.now()) >= order_payment_deadline(order):
        # Too late to take money: settle from billing's records instead.
        order_settle_from_billing(order=order, cancel_unpaid=True)
        return order
    payment = remote.payment_take(
        order_id=order.pk,
        username=order.username,
        amount=order.total_cost,
        idempotency_key=payment_key(order.pk),
    )
    if payment.outcome == remote.PaymentOutcome.VOID:
        # reconcile cancelled the order while this request was away: nothing was taken.
        _transition(order, to=Status.CANCELLED, sources=[Status.NEW], payment_voided=True)
        return order
    if payment.outcome == remote.PaymentOutcome.REJECTED:
        # Billing refused the request itself (e.g. the user has no account): nothing was taken.
        _transition(order, to=Status.CANCELLED, sources=[Status.NEW])
        if order.status != Status.CANCELLED:  # settled meanwhile by a concurrent reconcile
            return order
        raise PaymentRejected(
            payment.detail or "The billing service refused the payment",
            extra={"orderId": order.pk, "billingCode": payment.code},
        )
    paid = payment.outcome == remote.PaymentOutcome.PAID
    status = Status.PAID if paid else Status.INSUFFICIENT_FUNDS
    delivered = _notification_deliver(order, status=status) == Delivery.DELIVERED
    notified = {"notified_status": status} if delivered else {}
    if paid:
        _order_mark_paid(order, operation_id=payment.operation_id, **notified)
    else:
        _transition(order, to=status, sources=[Status.NEW], **notified)
    return order


def _notification_text(order: Order, status: str) -> str:
    amount = f"{order.total_cost:.2f}"
    if status == Status.PAID:
        return f"Your order #{order.pk} is paid: {amount} was charged to your account."
    return f"Your order #{order.pk} could not be paid: your balance is too low for {amount}."


def _notification_owed(order: Order) -> bool:
    return order.status in NOTIFICATION_TYPES and order.notified_status != order.status


def _notification_deliver(order: Order, *, status: str) -> Delivery:
    """Have mini_notif send the notification that ``status`` owes; writes nothing here."""
    try:
        contact = contact_get(username=order.username)
        if not contact:
            logger.warning("order %s: %s has no contact data", order.pk, order.username)
            return Delivery.UNDELIVERABLE
        delivered = remote.notification_send(
            notification_type=NOTIFICATION_TYPES[status],
            order_id=order.pk,
            username=order.username,
            text=_notification_text(order, status),
            contact=contact,
            idempotency_key=notification_key(order.pk, status),
        )
    except DependencyUnavailable as exc:
        logger.warning(
            "notification of order %s postponed: %s",
            order.pk,
            exc.detail,
            extra={"order_id": order.pk},
        )
        return Delivery.UNAVAILABLE
    return Delivery.DELIVERED if delivered else Delivery.UNDELIVERABLE


def order_notify(*, order: Order) -> Delivery:
    """Phase 3 alone: deliver the notification a final order still owes, once.

    Records the delivery and ends any lease on the order.
    """
    if not _notification_owed(order):
        return Delivery.NOT_DUE
    status = order.status
    delivery = _notification_deliver(order, status=status)
    if delivery == Delivery.DELIVERED:
        update_if_unchanged(
            order, where={"status": status}, notified_status=status, locked_until=None
        )
    else:
        _lease_released(order)
    return delivery


def order_place(
    *,
    username: str,
    positions: Sequence[PositionData],
    total_cost: Decimal | None = None,
    shop_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Create the order, take its payment and notify the user; the order has its final status.

    Returns the order and whether it is a replay: the key's order was already
    final when this request found it. Raises DependencyUnavailable with the
    order id when mini_billing cannot answer (the order stays NEW: the same
    request with the same Idempotency-Key resumes it).
    """
    total = order_total_resolve(positions=positions, total_cost=total_cost)
    claimed = order_create(
        username=username,
        positions=positions,
        total_cost=total,
        shop_id=shop_id,
        idempotency_key=idempotency_key,
    )
    order = claimed.row
    try:
        if order.status == Status.NEW:
            order_pay(order=order)
        else:
            order_notify(order=order)
    except DependencyUnavailable as exc:
        raise DependencyUnavailable(
            exc.service,
            f"{exc.detail}. Order {order.pk} is saved; whether it gets paid is not known "
            "yet. Repeat this request with the same Idempotency-Key to learn the outcome "
            f"(or read GET /api/v1/order/{order.pk}): a request with a new key is a new order.",
            retry_after=exc.retry_after,
            extra={"orderId": order.pk},
        ) from exc
    finally:
        _lease_released(order)  # no statement when the final UPDATE ended it
    if order.status == Status.CANCELLED:
        raise OrderCancelled(
            f"Order {order.pk} was cancelled without payment. "
            "Place a new order with a new Idempotency-Key.",
            extra={"orderId": order.pk},
        )
    return order, claimed.replayed
