from django.db.models import QuerySet

from mini_common.auth import GatewayUser, can_see
from mini_common.errors import NotFound
from orders.models import Order


def _with_positions() -> QuerySet[Order]:
    return Order.objects.prefetch_related("positions")


def order_list(
    *, viewer: GatewayUser, username: str | None = None, status: str | None = None
) -> QuerySet[Order]:
    """The orders ``viewer`` may see, newest first: their own, or everyone's for an admin."""
    orders = _with_positions()
    if not viewer.is_admin:
        orders = orders.filter(username=viewer.username)
    if username is not None:
        orders = orders.filter(username=username)
    if status is not None:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "-id")


def order_get(*, order_id: int, viewer: GatewayUser) -> Order:
    """The order ``viewer`` may see; another user's order is a 404, as a missing one."""
    order = _with_positions().filter(pk=order_id).first()
    if order is None or not can_see(viewer, order.username):
        raise NotFound(f"No order {order_id}")
    return order
