"""mini_order's gauges, read from its database when /metrics is asked.

- ``mini_orders_new``: orders in status NEW now;
- ``mini_orders_new_oldest_age_seconds``: how long the oldest of them has been
  NEW (0 when there is none): an order whose payment step did not finish,
  which the same request repeated or ``reconcile`` settles.

One query per scrape: the NEW orders' count and oldest ``created_at`` from
the (status, created_at) index. The last reconcile run is exported by
``mini_common.metrics.ReconcileCollector`` (registered in apps.py).
"""

from collections.abc import Iterable

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from mini_common import metrics
from orders.models import Order

NEW_ORDERS = ("mini_orders_new", "Orders in status NEW now")
OLDEST_NEW_ORDER = (
    "mini_orders_new_oldest_age_seconds",
    "Age of the oldest order in status NEW (0: none)",
)


class OrdersCollector:
    def describe(self) -> Iterable[Metric]:
        return [
            GaugeMetricFamily(*NEW_ORDERS),
            GaugeMetricFamily(*OLDEST_NEW_ORDER),
        ]

    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        new = Order.objects.filter(status=Order.Status.NEW).aggregate(
            count=Count("pk"), oldest=Min("created_at")
        )
        return [
            GaugeMetricFamily(*NEW_ORDERS, value=new["count"]),
            GaugeMetricFamily(*OLDEST_NEW_ORDER, value=metrics.age_seconds(new["oldest"], now)),
        ]
