from django.contrib import admin, messages

from mini_common.adminsite import ReadOnlyAdmin, admin_link, admin_links
from orders.models import Order, OrderPosition
from orders.reconcile import orders_reconcile


class OrderPositionInline(ReadOnlyAdmin, admin.TabularInline):
    model = OrderPosition
    fields = ("product_id", "price", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Orders are records of money: the admin shows them and never edits or deletes one.

    An order and its payment are one fact kept in two services: a row changed or
    deleted here would leave mini_billing's payment without its order. What an
    operator may do is what the service itself would do: ``reconcile``.
    """

    list_display = ("id", "username", "status", "total_cost", "notified", "shop_id", "created_at")
    list_filter = ("status", "created_at")
    search_fields = ("username",)
    date_hierarchy = "created_at"
    inlines = [OrderPositionInline]
    fields = (
        "username",
        "shop_id",
        "total_cost",
        "status",
        "notified_status",
        "elsewhere",
        "payment_operation_id",
        "idempotency_key",
        "locked_until",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ("reconcile",)

    @admin.display(boolean=True, description="notified")
    def notified(self, order: Order) -> bool:
        return order.notified

    @admin.display(description="in the other admins")
    def elsewhere(self, order: Order) -> str:
        links = [
            admin_link(
                "its payment in mini_billing", "billing", "billing/operation/", order_id=order.pk
            ),
            admin_link(
                "its notifications in mini_notif",
                "notif",
                "notifications/notification/",
                parent_type__exact="ORDER",
                parent_id=order.pk,
            ),
            admin_link(
                f"{order.username}'s account",
                "billing",
                "billing/account/",
                username=order.username,
            ),
        ]
        return admin_links(*links)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) <= 18:  # an order id
            results |= queryset.filter(pk=int(term))
        return results, may_have_duplicates

    @admin.action(description="Reconcile the selected orders (as manage.py reconcile would)")
    def reconcile(self, request, queryset):
        summary = orders_reconcile(order_ids=list(queryset.values_list("pk", flat=True)))
        level = messages.WARNING if summary.unavailable or summary.undeliverable else messages.INFO
        self.message_user(
            request,
            f"Paid {summary.paid}, cancelled {summary.cancelled}, still inside the retry "
            f"window {summary.unpaid}, notified {summary.notified}, skipped "
            f"{summary.unavailable} (a service did not answer), undeliverable "
            f"{summary.undeliverable}.",
            level,
        )
