from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mini_common import metrics
        from notifications.metrics import NotificationsCollector

        metrics.collect_at_scrape(NotificationsCollector())
