from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from identity.models import Registration, RevokedAccessToken, TokenFamily, UserTokenCutoff
from identity.services import registration_complete
from mini_common.adminsite import ReadOnlyAdmin, admin_link, admin_links
from mini_common.errors import ApiError

admin.site.unregister(User)
admin.site.unregister(OutstandingToken)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """simplejwt's issued refresh tokens, without the tokens themselves.

    A live refresh token is a session: shown here, anyone with the admin (or a
    copy of what it shows) could take the session over.
    """

    list_display = ("jti", "user", "created_at", "expires_at")
    search_fields = ("user__username", "jti")
    fields = ("jti", "user", "created_at", "expires_at")
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(User)
class MiniUserAdmin(UserAdmin):
    """Django's user admin, with the user's records in the other services one click away.

    No Delete: users are deactivated, never deleted (identity.signals).
    """

    readonly_fields = ("elsewhere",)
    actions = ("deactivate",)

    def get_readonly_fields(self, request, obj=None):
        # The name is the key of the user's records in every service (identity.signals).
        fixed = ("username",) if obj is not None else ()
        return (*fixed, *super().get_readonly_fields(request, obj))

    fieldsets = (*UserAdmin.fieldsets, ("In the other admins", {"fields": ("elsewhere",)}))

    @admin.display(description="records")
    def elsewhere(self, user: User) -> str:
        username = user.username
        links = (
            admin_link(f"{username}'s profile", "user", "profiles/profile/", username=username),
            admin_link(f"{username}'s account", "billing", "billing/account/", username=username),
            admin_link(f"{username}'s orders", "order", "orders/order/", username=username),
        )
        return admin_links(*links)

    @admin.action(description="Deactivate the selected users (their tokens stop working)")
    def deactivate(self, request, queryset):
        deactivated = 0
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user.save(update_fields=["is_active"])  # the signal voids their tokens
            deactivated += 1
        self.message_user(request, f"{deactivated} user(s) deactivated.")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "status",
        "profile_created",
        "account_created",
        "attempts",
        "last_error",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "profile_created", "account_created", "created_at")
    search_fields = ("username", "email", "last_name")
    readonly_fields = [field.name for field in Registration._meta.fields]
    ordering = ("-created_at",)
    actions = ["resume_registrations"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the name stays taken: users are never deleted

    @admin.action(description="Resume selected pending registrations")
    def resume_registrations(self, request, queryset):
        completed, failed = 0, []
        for registration in queryset.filter(status=Registration.Status.PENDING):
            try:
                registration_complete(registration=registration)
                completed += 1
            except ApiError as exc:
                failed.append(f"{registration.username} ({exc.code})")
        self.message_user(request, f"{completed} registration(s) completed.")
        if failed:
            self.message_user(request, "Still pending: " + ", ".join(failed), messages.WARNING)


@admin.register(RevokedAccessToken)
class RevokedAccessTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "username", "revoked_at", "expires_at")
    list_filter = ("revoked_at",)
    search_fields = ("jti", "username")
    readonly_fields = ("jti", "username", "revoked_at", "expires_at")
    ordering = ("-revoked_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    """Login sessions; revoked by refresh-token reuse or logout (read only)."""

    list_display = (
        "username",
        "family",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason", "created_at")
    search_fields = ("username", "family")
    readonly_fields = [field.name for field in TokenFamily._meta.fields]
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UserTokenCutoff)
class UserTokenCutoffAdmin(admin.ModelAdmin):
    """Per-user "not valid before" marks (deactivation, deletion, demotion; read only)."""

    list_display = ("username", "not_before", "reason", "updated_at")
    search_fields = ("username",)
    readonly_fields = ("username", "not_before", "reason", "updated_at")
    ordering = ("-updated_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
