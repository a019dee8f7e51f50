"""The cross-service invariants of `manage_all.py audit`, checked over the services' exports.

Pure functions of the JSON documents each service's `audit_export` prints
(keys by service short name), so they are tested without Django or a running
system. The exports are taken one after the other, in EXPORTS order, while
traffic may go on; the order makes work in flight show as "pending", never as
a violation:

- mini_auth before mini_user and mini_billing: a registration is COMPLETE only
  after its profile and account exist, so both are in the later exports.
- mini_order before mini_billing and mini_notif: an order is PAID only after its
  payment, and marked notified only after mini_notif took the notification, so
  both are in the later exports.
- mini_order once more after mini_billing: an order is committed before its
  payment is asked for, so every exported payment's order is in this second
  export. (Nothing is guessed from ids: a lost order table must show.)

Pending, not a violation: a PENDING registration (never active, so nobody can
use it half-made; `reconcile` finishes it, and the report shows its age), a
payment of an order still NEW, a notification mini_order still owes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# (key in the exports, service whose audit_export it is), in the order they are taken.
EXPORTS = (
    ("auth", "auth"),
    ("user", "user"),
    ("order", "order"),
    ("billing", "billing"),
    ("notif", "notif"),
    ("order_again", "order"),
)

# The notification each final order status owes, as mini_order sends it.
NOTIFICATION_TYPES = {"PAID": "SUCCESS", "INSUFFICIENT_FUNDS": "FAIL"}
UNPAID_STATUSES = ("INSUFFICIENT_FUNDS", "CANCELLED")

Row = Mapping[str, Any]


@dataclass
class Invariant:
    """The outcome of one invariant: how many things it checked, what broke, what is in flight."""

    name: str
    rule: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


class Facts:
    """The exports, indexed once for the checks."""

    def __init__(self, exports: Mapping[str, Mapping[str, Any]]) -> None:
        auth, billing, notif = exports["auth"], exports["billing"], exports["notif"]
        self.complete_users: list[str] = list(auth["completeUsernames"])
        self.pending_registrations: list[Row] = list(auth["pendingRegistrations"])
        self.profiles: set[str] = set(exports["user"]["profileUsernames"])
        self.accounts: list[Row] = list(billing["accounts"])
        self.account_names: set[str] = {row["username"] for row in self.accounts}
        self.payments: list[Row] = list(billing["payments"])
        self.orders: dict[int, Row] = {row["id"]: row for row in exports["order"]["orders"]}
        # Taken after mini_billing's export: the orders every exported payment may refer to.
        later = exports.get("order_again", exports["order"])["orders"]
        self.orders_again: dict[int, Row] = {row["id"]: row for row in later}
        self.payments_by_order: dict[int, list[Row]] = defaultdict(list)
        for payment in self.payments:
            self.payments_by_order[payment["orderId"]].append(payment)
        self.notifications: list[Row] = list(notif["notifications"])
        self.order_notifications: dict[tuple[str, str], Row] = {
            (row["parentId"], row["type"]): row
            for row in self.notifications
            if row["parentType"] == "ORDER"
        }

    def summary(self) -> str:
        new = sum(1 for order in self.orders.values() if order["status"] == "NEW")
        return (
            f"{len(self.complete_users)} registered users "
            f"(+{len(self.pending_registrations)} pending), {len(self.profiles)} profiles, "
            f"{len(self.accounts)} accounts, {len(self.payments)} payments, "
            f"{len(self.orders)} orders ({new} NEW), "
            f"{sum(row['count'] for row in self.notifications)} order/payment notifications"
        )


def _order_label(order: Row) -> str:
    return f"order {order['id']} ({order['username']}, {order['status']} {order['totalCost']})"


def _payment_label(payment: Row) -> str:
    return f"PAYMENT #{payment['id']} of {payment['amount']} on {payment['username']}'s account"


def check_balances(facts: Facts) -> Invariant:
    result = Invariant(
        "balances", "balance = sum of operations (DEPOSIT +, WITHDRAWAL/PAYMENT -) and >= 0"
    )
    for account in facts.accounts:
        result.checked += 1
        balance, total = Decimal(account["balance"]), Decimal(account["operationsTotal"])
        label = f"account {account['username']}"
        if balance != total:
            result.violations.append(
                f"{label}: balance {balance} != sum of its {account['operations']} "
                f"operations {total}"
            )
        if balance < 0:
            result.violations.append(f"{label}: negative balance {balance}")
    return result


def check_paid_orders(facts: Facts) -> Invariant:
    result = Invariant(
        "paid orders", "every PAID order has one PAYMENT of its totalCost on its owner's account"
    )
    for order in facts.orders.values():
        if order["status"] != "PAID":
            continue
        result.checked += 1
        payments = facts.payments_by_order.get(order["id"], [])
        label = _order_label(order)
        if len(payments) != 1:
            found = "no PAYMENT" if not payments else f"{len(payments)} PAYMENTs"
            result.violations.append(f"{label}: {found} in mini_billing")
            continue
        payment = payments[0]
        if Decimal(payment["amount"]) != Decimal(order["totalCost"]):
            result.violations.append(f"{label}: {_payment_label(payment)} is not its totalCost")
        if payment["username"] != order["username"]:
            result.violations.append(f"{label}: {_payment_label(payment)}, not the owner's")
    return result


def check_payments_have_orders(facts: Facts) -> Invariant:
    result = Invariant("payments have orders", "every PAYMENT's orderId is an order in mini_order")
    for payment in facts.payments:
        result.checked += 1
        order = facts.orders_again.get(payment["orderId"])
        label = f"{_payment_label(payment)} for order {payment['orderId']}"
        if order is None:
            result.violations.append(f"{label}: no such order in mini_order")
        elif order["status"] == "NEW":
            result.pending.append(f"{label}: order still NEW (reconcile makes it PAID)")
    return result


def check_unpaid_orders(facts: Facts) -> Invariant:
    result = Invariant("unpaid orders", "no INSUFFICIENT_FUNDS or CANCELLED order has a PAYMENT")
    for order in facts.orders.values():
        if order["status"] not in UNPAID_STATUSES:
            continue
        result.checked += 1
        for payment in facts.payments_by_order.get(order["id"], []):
            result.violations.append(f"{_order_label(order)}: has {_payment_label(payment)}")
    return result


def check_registrations(facts: Facts) -> Invariant:
    result = Invariant(
        "registrations", "every registered user has a profile (mini_user) and an account (billing)"
    )
    for username in facts.complete_users:
        result.checked += 1
        missing = [
            what
            for what, found in (
                ("profile in mini_user", username in facts.profiles),
                ("account in mini_billing", username in facts.account_names),
            )
            if not found
        ]
        if missing:
            result.violations.append(f"user {username}: no {' and no '.join(missing)}")
    for row in facts.pending_registrations:
        error = f", last error {row['lastError']}" if row["lastError"] else ""
        result.pending.append(
            f"user {row['username']}: registration PENDING for {_age(row['ageSeconds'])} "
            f"({row['attempts']} attempts{error})"
        )
    return result


def check_order_notifications(facts: Facts) -> Invariant:
    result = Invariant(
        "order notifications",
        "every PAID / INSUFFICIENT_FUNDS order has its SUCCESS / FAIL notification",
    )
    for order in facts.orders.values():
        wanted = NOTIFICATION_TYPES.get(order["status"])
        if wanted is None:
            continue
        result.checked += 1
        label = _order_label(order)
        notification = facts.order_notifications.get((str(order["id"]), wanted))
        if notification is not None:
            if not notification["sent"]:
                result.pending.append(f"{label}: {wanted} notification not sent by mini_notif yet")
        elif order["notifiedStatus"] != order["status"]:
            result.pending.append(f"{label}: {wanted} notification still owed by mini_order")
        else:
            result.violations.append(
                f"{label}: marked notified, but mini_notif has no {wanted} notification"
            )
    return result


def check_duplicate_notifications(facts: Facts) -> Invariant:
    result = Invariant(
        "unique notifications", "no order or payment has two notifications of one type"
    )
    for row in facts.notifications:
        result.checked += 1
        if row["count"] > 1:
            result.violations.append(
                f"{row['parentType']} {row['parentId']}: {row['count']} {row['type']} notifications"
            )
    return result


CHECKS: tuple[Callable[[Facts], Invariant], ...] = (
    check_balances,
    check_paid_orders,
    check_payments_have_orders,
    check_unpaid_orders,
    check_registrations,
    check_order_notifications,
    check_duplicate_notifications,
)


def check_all(exports: Mapping[str, Mapping[str, Any]]) -> tuple[Facts, list[Invariant]]:
    facts = Facts(exports)
    return facts, [check(facts) for check in CHECKS]


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
