from django.contrib import admin

from mini_common.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = (
        "key",
        "method",
        "path",
        "service",
        "username",
        "state",
        "response_status",
        "created_at",
    )
    list_filter = ("state", "method", "service", "response_status")
    search_fields = ("key", "username", "path")
    readonly_fields = [field.name for field in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request):
        return False
