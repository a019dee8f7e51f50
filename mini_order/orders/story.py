"""Reads for `manage_all.py story`: what mini_order knows about one order or one user.

Rows are given whole, every column under its camelCase name, read from the
model's own fields: a column added later shows up without a change here, and
one that goes away is simply not there. The ``audit`` part has the rows of
`audit_export` (orders/audit.py), restricted to the order or the user, so the
tool can check the audit's invariants for them alone.
"""

from typing import Any

from mini_common.money import CENT
from mini_common.story import record
from orders.models import Order

SERVICE = "mini_order"
AUDIT_FIELDS = ("id", "username", "status", "total_cost", "notified_status")


def _audit_row(order: Order) -> dict[str, Any]:
    """The order as `audit_export` gives it (orders/audit.py)."""
    return {
        "id": order.pk,
        "username": order.username,
        "status": order.status,
        "totalCost": str(order.total_cost.quantize(CENT)),
        "notifiedStatus": order.notified_status,
    }


def _order_record(order: Order) -> dict[str, Any]:
    row = record(order)
    row["positions"] = [record(position, leave_out=("order",)) for position in order.position_list]
    return row


def order_story(*, order_id: int) -> dict[str, Any]:
    """The order with its positions; ``order`` is None when there is no such order."""
    order = Order.objects.prefetch_related("positions").filter(pk=order_id).first()
    return {
        "service": SERVICE,
        "order": _order_record(order) if order else None,
        "audit": {"orders": [_audit_row(order)] if order else []},
    }


def user_story(*, username: str, limit: int) -> dict[str, Any]:
    """The user's newest ``limit`` orders with their positions; the audit rows of all of them."""
    orders = Order.objects.filter(username=username)
    shown = orders.prefetch_related("positions").order_by("-created_at", "-id")[:limit]
    return {
        "service": SERVICE,
        "orders": [_order_record(order) for order in shown],
        "ordersTotal": orders.count(),
        "audit": {"orders": [_audit_row(o) for o in orders.only(*AUDIT_FIELDS).order_by("pk")]},
    }
