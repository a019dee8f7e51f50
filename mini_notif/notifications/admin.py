from django.contrib import admin, messages

from notifications.models import Notification
from notifications.services import notification_retry


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
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
    # What happened is a record; only the message and where it goes may be corrected
    # (e.g. a mistyped address) before a resend.
    readonly_fields = (
        "notification_type",
        "parent_type",
        "parent_id",
        "username",
        "delivery_status",
        "attempts",
        "last_error",
        "sent_at",
        "locked_until",
        "request_key",
        "created_at",
        "updated_at",
    )
    actions = ("resend",)

    def has_add_permission(self, request):
        return False  # notifications come from the services, through the API

    @admin.display(description="parent", ordering="parent_type")
    def parent(self, notification: Notification) -> str:
        if notification.parent_id:
            return f"{notification.parent_type} {notification.parent_id}"
        return notification.parent_type

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
