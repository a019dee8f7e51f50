"""Reads for the cross-service audit (`manage_all.py audit`): the facts mini_order owns."""

from collections.abc import Iterator
from typing import Any

from mini_common.money import CENT
from orders.models import Order

CHUNK_SIZE = 2000


def order_export() -> Iterator[dict[str, Any]]:
    """Every order as one flat row (positions left out: the audit needs the total only).

    ``notifiedStatus`` is blank until mini_notif accepted the notification the
    status owes; the audit counts such an order as a delivery still pending.
    """
    rows = (
        Order.objects.order_by("pk")
        .values_list("pk", "username", "status", "total_cost", "notified_status")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for pk, username, status, total_cost, notified_status in rows:
        yield {
            "id": pk,
            "username": username,
            "status": status,
            "totalCost": str(total_cost.quantize(CENT)),  # exact, compared with the payment
            "notifiedStatus": notified_status,
        }
