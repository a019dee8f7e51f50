"""Typed adapters for the calls this service makes to mini_billing, mini_user and mini_notif.

Each adapter turns an HTTP answer into what the order flow needs to know.
``DependencyUnavailable`` means "no usable answer now, try again later":
the client raises it when a service cannot be reached, and the adapters raise
it for answers that say nothing about the request itself (our own
misconfiguration, throttling, a duplicate still in flight). Unit tests replace
these functions with fakes.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from mini_common.client import ServiceResponse, service_client
from mini_common.errors import DependencyUnavailable
from mini_common.money import money_json

logger = logging.getLogger("orders.remote")

BILLING, USER, NOTIF = "billing", "user", "notif"
# Answers that are not about the request: 401/403 (tokens or roles misconfigured),
# 429 (throttled), and 409 request_in_progress (the same Idempotency-Key is being processed).
RETRY_LATER_STATUSES = frozenset({401, 403, 429})
RETRY_AFTER_SECONDS = 5


class PaymentOutcome(StrEnum):
    PAID = "PAID"
    DECLINED = "DECLINED"  # 402 insufficient_funds: the balance is too low
    VOID = "VOID"  # 409 payment_void: the order was cancelled first, nothing was taken
    REJECTED = "REJECTED"  # any other refusal (no account, invalid request): nothing was taken


@dataclass(frozen=True)
class Payment:
    outcome: PaymentOutcome
    operation_id: str = ""
    code: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone: str = ""

    def __bool__(self) -> bool:
        return bool(self.email or self.phone)


def _problem(response: ServiceResponse) -> tuple[str, str]:
    data = response.data if isinstance(response.data, dict) else {}
    return str(data.get("code", "")), str(data.get("detail", ""))


def _is_retry_later(response: ServiceResponse) -> bool:
    if response.status == 409:
        return _problem(response)[0] == "request_in_progress"
    return response.status in RETRY_LATER_STATUSES


def _retry_later(service: str, response: ServiceResponse) -> DependencyUnavailable:
    code, detail = _problem(response)
    logger.warning(
        "%s answered %s (%s): retry later",
        service,
        response.status,
        code,
        extra={"target": service, "status": response.status, "detail": detail},
    )
    answer = f"{response.status} {code}".strip()
    return DependencyUnavailable(
        service,
        f"{service} cannot handle the request now ({answer})",
        retry_after=RETRY_AFTER_SECONDS,
    )


def _operation_id(data: Any) -> str:
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data["id"])[:64]
    return ""


def payment_take(*, order_id: int, username: str, amount: Decimal, idempotency_key: str) -> Payment:
    """Ask mini_billing to take the order's payment from the user's account."""
    response = service_client(BILLING).post(
        "/billing/account/operate",
        json={"type": "PAYMENT", "amount": money_json(amount), "orderId": order_id},
        username=username,
        idempotency_key=idempotency_key,
    )
    if response.ok:
        return Payment(PaymentOutcome.PAID, operation_id=_operation_id(response.data))
    if _is_retry_later(response):
        raise _retry_later(BILLING, response)
    code, detail = _problem(response)
    if response.status == 402:
        return Payment(PaymentOutcome.DECLINED, code=code or "insufficient_funds", detail=detail)
    if response.status == 409 and code == "payment_void":
        return Payment(PaymentOutcome.VOID, code=code, detail=detail)
    logger.warning(
        "billing rejected the payment of order %s: %s %s",
        order_id,
        response.status,
        code,
        extra={"order_id": order_id, "status": response.status, "detail": detail},
    )
    return Payment(PaymentOutcome.REJECTED, code=code, detail=detail)


def payment_find(*, order_id: int, username: str, amount: Decimal) -> str | None:
    """The id of the order's PAYMENT operation in mini_billing, or None if it never happened.

    Read-only: how ``reconcile`` learns whether a payment whose answer was lost
    did reach mini_billing. Only a definite answer counts: anything else raises.
    """
    response = service_client(BILLING).get(
        "/billing/account/operations", params={"orderId": order_id}, username=username
    )
    if response.status == 404 and _problem(response)[0] == "account_not_found":
        return None  # no account: nothing can have been paid
    results = response.data.get("results") if isinstance(response.data, dict) else None
    if not response.ok or not isinstance(results, list):
        if response.ok:
            logger.error("unexpected answer from billing's operations list: %r", response.data)
        raise _retry_later(BILLING, response)
    for operation in results:
        if (
            isinstance(operation, dict)
            and str(operation.get("type", "")).upper() == "PAYMENT"
            and str(operation.get("orderId")) == str(order_id)
        ):
            return _this_orders_payment(operation, order_id=order_id, amount=amount)
    return None


def payment_void(*, order_id: int, username: str, amount: Decimal) -> str | None:
    """Have mini_billing declare the order's payment void; the payment's id if it happened.

    None: the payment is void now (or was already), and no PAYMENT for the order
    will ever take money. Anything but a definite answer raises.
    """
    response = service_client(BILLING).post(
        "/billing/payment/void", json={"orderId": order_id}, username=username
    )
    data = response.data if isinstance(response.data, dict) else {}
    if not response.ok or data.get("state") not in ("VOID", "PAID"):
        if response.ok:
            logger.error("unexpected answer from billing's payment void: %r", response.data)
        raise _retry_later(BILLING, response)
    if data["state"] == "VOID":
        return None
    payment = data.get("payment") if isinstance(data.get("payment"), dict) else {}
    return _this_orders_payment(payment, order_id=order_id, amount=amount)


def _this_orders_payment(payment: dict, *, order_id: int, amount: Decimal) -> str | None:
    """The payment's operation id; None when its amount is not the order's.

    A payment of another amount is not this order's (an order id reused after a
    reset of this database): billing would refuse ours, so ours never happened.
    """
    if _amount(payment.get("amount")) != amount:
        logger.error("billing has a payment of another amount for order %s", order_id)
        return None
    return _operation_id(payment) or "?"


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def profile_fetch(*, username: str) -> Contact | None:
    """The user's contact data from mini_user; None when the user has no profile."""
    response = service_client(USER).get(f"/api/v1/user/{username}", username=username)
    if response.status == 404:
        return None
    if not response.ok or not isinstance(response.data, dict):
        raise _retry_later(USER, response)
    return Contact(
        email=str(response.data.get("email") or ""), phone=str(response.data.get("phone") or "")
    )


def notification_send(
    *,
    notification_type: str,
    order_id: int,
    username: str,
    text: str,
    contact: Contact,
    idempotency_key: str,
) -> bool:
    """Create the notification in mini_notif; True once mini_notif has it.

    False when mini_notif refused it for good (logged; ``reconcile`` tries again).
    """
    response = service_client(NOTIF).post(
        "/api/v1/notification",
        json={
            "notificationType": notification_type,
            "parentType": "ORDER",
            "parentId": order_id,
            "username": username,
            "text": text,
            "contact": {"email": contact.email or None, "phone": contact.phone or None},
        },
        username=username,
        idempotency_key=idempotency_key,
    )
    if response.ok:
        return True
    code, detail = _problem(response)
    if response.status == 422 and code == "idempotency_key_reused":
        # An earlier attempt created it with other contact data (the profile changed since).
        return True
    if _is_retry_later(response):
        raise _retry_later(NOTIF, response)
    logger.error(
        "notif refused the notification of order %s: %s %s",
        order_id,
        response.status,
        code,
        extra={"order_id": order_id, "status": response.status, "detail": detail},
    )
    return False
