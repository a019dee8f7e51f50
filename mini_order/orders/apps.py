from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mini_common import metrics
        from orders.metrics import OrdersCollector
        from orders.models import ReconcileRun

        metrics.collect_at_scrape(OrdersCollector())
        metrics.collect_at_scrape(metrics.ReconcileCollector(ReconcileRun))
