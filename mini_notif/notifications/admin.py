from django.contrib import admin, messages

from mini_common.adminsite import ReadOnlyAdmin, admin_link, admin_links
from notifications.models import Notification
from notifications.services import notification_retry


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """What was sent to whom, about which order: a record, shown and never edited.

    A notification is part of an order's story (the audit checks that each final
    order has exactly one): editing or deleting one would rewrite that story.
    Sending again is the service's own ``resend``, an action.
    """

    list_display = (
        "id",
        "username",
        "notification_type",
        "parent",
        "delivery_status",
        "attempts",
        "created_at",
    )
    list_filter = ("notification_type", "parent_type", "delivery_status", "created_at")
    search_fields = ("username", "text", "parent_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = (
        "notification_type",
        "parent_type",
        "parent_id",
        "elsewhere",
        "username",
        "text",
        "contact_email",
        "contact_phone",
        "delivery_status",
        "attempts",
        "last_error",
        "sent_at",
        "locked_until",
        "request_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ("resend",)

    @admin.display(description="parent", ordering="parent_type")
    def parent(self, notification: Notification) -> str:
        if notification.parent_id:
            return f"{notification.parent_type} {notification.parent_id}"
        return notification.parent_type

    @admin.display(description="in the other admins")
    def elsewhere(self, notification: Notification) -> str:
        username = notification.username
        links = []
        if notification.parent_type == Notification.ParentType.ORDER and notification.parent_id:
            order = notification.parent_id
            links.append(admin_link(f"order {order}", "order", f"orders/order/{order}/change/"))
        links.append(
            admin_link(f"{username}'s orders", "order", "orders/order/", username=username)
        )
        links.append(
            admin_link(f"{username}'s account", "billing", "billing/account/", username=username)
        )
        return admin_links(*links)

    @admin.action(description="Resend the selected unsent notifications")
    def resend(self, request, queryset):
        sent = failed = skipped = 0
        for pk in queryset.values_list("pk", flat=True):
            # No attempt limit here: a human asked for it.
            notification = notification_retry(notification_id=pk)
            if notification is None:
                skipped += 1
            elif notification.delivery_status == Notification.DeliveryStatus.SENT:
                sent += 1
            else:
                failed += 1
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(
            request,
            f"Sent {sent}, failed {failed}, skipped {skipped} (already sent or being sent).",
            level,
        )
