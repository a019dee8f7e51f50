from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mini_common import metrics
        from orders.metrics import OrdersCollector

        metrics.collect_at_scrape(OrdersCollector())
