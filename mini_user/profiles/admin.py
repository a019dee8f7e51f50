from django.contrib import admin

from mini_common.adminsite import admin_link, admin_links
from profiles.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Contact data: editable (a mistyped address is corrected here), username fixed."""

    list_display = ("username", "email", "phone", "first_name", "last_name", "created_at")
    search_fields = ("username", "email", "phone", "last_name")
    list_filter = ("created_at",)
    readonly_fields = ("username", "elsewhere", "created_at", "updated_at")
    ordering = ("-created_at",)

    @admin.display(description="in the other admins")
    def elsewhere(self, profile: Profile) -> str:
        username = profile.username
        links = (
            admin_link(f"{username}'s user", "auth", "auth/user/", username=username),
            admin_link(f"{username}'s account", "billing", "billing/account/", username=username),
            admin_link(f"{username}'s orders", "order", "orders/order/", username=username),
        )
        return admin_links(*links)
