from django.apps import AppConfig


class MiniCommonConfig(AppConfig):
    name = "mini_common"
    verbose_name = "Mini common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mini_common import schema  # noqa: F401 - registers the OpenAPI extension
