from django.contrib import admin

from orders.models import Order, OrderPosition


class OrderPositionInline(admin.TabularInline):
    model = OrderPosition
    fields = ("product_id", "price", "quantity")
    readonly_fields = ("product_id", "price", "quantity")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are made through the API; the admin shows them and may fix the shop id."""

    list_display = ("id", "username", "status", "total_cost", "notified", "shop_id", "created_at")
    list_filter = ("status", "created_at")
    search_fields = ("username",)
    date_hierarchy = "created_at"
    inlines = [OrderPositionInline]
    readonly_fields = (
        "username",
        "total_cost",
        "status",
        "notified_status",
        "payment_operation_id",
        "idempotency_key",
        "created_at",
        "updated_at",
    )
    fields = ("shop_id", *readonly_fields)
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    @admin.display(boolean=True, description="notified")
    def notified(self, order: Order) -> bool:
        return order.notified

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) <= 18:  # an order id
            results |= queryset.filter(pk=int(term))
        return results, may_have_duplicates

    def has_add_permission(self, request):
        return False
