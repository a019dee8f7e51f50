from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mini_common import metrics
        from notifications.metrics import NotificationsCollector
        from notifications.models import ReconcileRun

        metrics.collect_at_scrape(NotificationsCollector())
        metrics.collect_at_scrape(metrics.ReconcileCollector(ReconcileRun))
