"""Reads for `manage_all.py story`: what mini_notif knows about one order or one user.

Rows are given whole, every column under its camelCase name, read from the
model's own fields: a column added later shows up without a change here, and
one that goes away is simply not there. A notification's contact columns are
the contact data it was sent to. The ``audit`` part has the rows of
`audit_export` (notifications/audit.py), restricted to the order or the user,
so the tool can check the audit's invariants for them alone.
"""

from typing import Any

from django.db.models import Count, Q, QuerySet

from mini_common.story import record
from notifications.audit import AUDITED_PARENT_TYPES
from notifications.models import Notification

SERVICE = "mini_notif"


def _audit_rows(notifications: QuerySet[Notification]) -> list[dict[str, Any]]:
    """Counts per (parent, type), as `audit_export` gives them (notifications/audit.py)."""
    sent = Q(delivery_status=Notification.DeliveryStatus.SENT)
    rows = (
        notifications.filter(parent_type__in=AUDITED_PARENT_TYPES)
        .exclude(parent_id="")
        .values("parent_type", "parent_id", "notification_type")
        .annotate(count=Count("pk"), sent=Count("pk", filter=sent))
        .order_by("parent_type", "parent_id", "notification_type")
        .values_list("parent_type", "parent_id", "notification_type", "count", "sent")
    )
    return [
        {"parentType": p_type, "parentId": p_id, "type": n_type, "count": count, "sent": sent}
        for p_type, p_id, n_type, count, sent in rows
    ]


def order_story(*, order_id: int) -> dict[str, Any]:
    """Every notification about the order, oldest first."""
    notifications = Notification.objects.filter(
        parent_type=Notification.ParentType.ORDER, parent_id=str(order_id)
    )
    return {
        "service": SERVICE,
        "notifications": [record(row) for row in notifications.order_by("created_at", "pk")],
        "audit": {"notifications": _audit_rows(notifications)},
    }


def user_story(*, username: str, limit: int) -> dict[str, Any]:
    """The user's newest ``limit`` notifications, how many there are, and their audit rows."""
    notifications = Notification.objects.filter(username=username)
    newest = notifications.order_by("-created_at", "-id")[:limit]
    return {
        "service": SERVICE,
        "notifications": [record(row) for row in newest],
        "notificationsTotal": notifications.count(),
        "audit": {"notifications": _audit_rows(notifications)},
    }
