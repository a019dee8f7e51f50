from django.contrib import admin

from profiles.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("username", "email", "phone", "first_name", "last_name", "created_at")
    search_fields = ("username", "email", "phone", "last_name")
    list_filter = ("created_at",)
    readonly_fields = ("username", "created_at", "updated_at")
    ordering = ("-created_at",)
