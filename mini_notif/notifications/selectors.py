from django.db.models import QuerySet

from mini_common.auth import GatewayUser
from notifications.models import Notification


def notification_list(
    *,
    viewer: GatewayUser,
    username: str | None = None,
    notification_type: str | None = None,
    parent_type: str | None = None,
    parent_id: str | None = None,
) -> QuerySet[Notification]:
    """The notifications ``viewer`` may list, newest first: their own, or everyone's for an admin.

    ``username`` narrows an admin's list; for anyone else it can only narrow
    their own list (to nothing, if it names someone else).
    """
    notifications = Notification.objects.all()
    if not viewer.is_admin:
        notifications = notifications.filter(username=viewer.username)
    filters = {
        "username": username,
        "notification_type": notification_type,
        "parent_type": parent_type,
        "parent_id": parent_id,
    }
    notifications = notifications.filter(
        **{name: value for name, value in filters.items() if value is not None}
    )
    return notifications.order_by("-created_at", "-id")
