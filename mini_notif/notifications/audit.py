"""Reads for the cross-service audit (`manage_all.py audit`): the facts mini_notif owns.

Counted per (parent, type) in SQL: the audit needs to know which order has
which notification, how many of them, and whether one was sent, not the rows.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q

from notifications.models import Notification

CHUNK_SIZE = 2000
# Parents that are one business object each: an order (or a payment) is told about
# each outcome once. A USER parent may get any number of messages of one type.
AUDITED_PARENT_TYPES = (Notification.ParentType.ORDER, Notification.ParentType.PAYMENT)


def notification_counts_by_parent() -> Iterator[dict[str, Any]]:
    """One row per (parentType, parentId, type) of order and payment notifications."""
    sent = Q(delivery_status=Notification.DeliveryStatus.SENT)
    rows = (
        Notification.objects.filter(parent_type__in=AUDITED_PARENT_TYPES)
        .exclude(parent_id="")
        .values("parent_type", "parent_id", "notification_type")
        .annotate(count=Count("pk"), sent=Count("pk", filter=sent))
        .order_by("parent_type", "parent_id", "notification_type")
        .values_list("parent_type", "parent_id", "notification_type", "count", "sent")
    )
    for parent_type, parent_id, notification_type, count, sent_count in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield {
            "parentType": parent_type,
            "parentId": parent_id,
            "type": notification_type,
            "count": count,
            "sent": sent_count,
        }
