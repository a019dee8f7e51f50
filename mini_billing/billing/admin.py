from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from billing.models import Account, Operation
from billing.selectors import RECENT_OPERATIONS
from mini_common.adminsite import ReadOnlyAdmin, admin_link, admin_links

OPERATION_FIELDS = ("id", "type", "amount", "balance_after", "order_id", "created_at")


class RecentOperationsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # An account may have thousands of operations: show the latest, link to the rest.
        return super().get_queryset()[:RECENT_OPERATIONS]


class OperationInline(ReadOnlyAdmin, admin.TabularInline):
    """Read-only: operations are immutable, and only the API records them."""

    model = Operation
    formset = RecentOperationsFormSet
    fields = OPERATION_FIELDS
    readonly_fields = OPERATION_FIELDS
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    verbose_name_plural = f"Operations (latest {RECENT_OPERATIONS})"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Accounts are opened through the API at registration; the admin only looks."""

    list_display = ("username", "balance", "created_at", "updated_at", "operations_link")
    search_fields = ("username",)
    list_filter = ("created_at", "updated_at")
    readonly_fields = (
        "username",
        "balance",
        "created_at",
        "updated_at",
        "operations_link",
        "elsewhere",
    )
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    inlines = [OperationInline]

    @admin.display(description="Operations")
    def operations_link(self, account):
        url = reverse("admin:billing_operation_changelist") + f"?account__id__exact={account.pk}"
        return format_html('<a href="{}">all operations</a>', url)

    @admin.display(description="in the other admins")
    def elsewhere(self, account):
        username = account.username
        links = (
            admin_link(f"{username}'s orders", "order", "orders/order/", username=username),
            admin_link(
                f"{username}'s notifications",
                "notif",
                "notifications/notification/",
                username=username,
            ),
            admin_link(f"{username}'s profile", "user", "profiles/profile/", username=username),
        )
        return admin_links(*links)

    # Money never moves through a form: the balance changes only with an operation.


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "account", "type", "amount", "balance_after", "order_id", "created_at")
    list_filter = ("type", "created_at")
    search_fields = ("account__username", "order_id__exact")
    list_select_related = ("account",)
    readonly_fields = ("account", *OPERATION_FIELDS, "order_link")
    ordering = ("-created_at", "-id")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="order")
    def order_link(self, operation):
        if operation.order_id is None:
            return "-"
        order = operation.order_id
        return admin_link(f"order {order} in mini_order", "order", f"orders/order/{order}/change/")
