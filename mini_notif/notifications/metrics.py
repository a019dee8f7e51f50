"""mini_notif's gauges, read from its database when /metrics is asked.

- ``mini_notifications_owed{delivery_status}``: notifications not delivered
  yet, PENDING (being sent, or left by a request that died) and FAILED (to be
  retried by ``reconcile``, or, past NOTIF_MAX_ATTEMPTS, by a human);
- ``mini_notifications_owed_oldest_age_seconds``: how long the oldest of them
  has been waiting (0 when there is none).

One query per scrape: the unsent rows grouped by status (the delivery_status
index; few rows while delivery works). The last reconcile run is exported by
``mini_common.metrics.ReconcileCollector`` (registered in apps.py).
"""

from collections.abc import Iterable

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from mini_common import metrics
from notifications.models import Notification
from notifications.services import UNSENT

OWED = ("mini_notifications_owed", "Notifications not delivered yet, by delivery status")
OLDEST_OWED = (
    "mini_notifications_owed_oldest_age_seconds",
    "Age of the oldest notification not delivered yet (0: none)",
)


class NotificationsCollector:
    def describe(self) -> Iterable[Metric]:
        return [
            GaugeMetricFamily(*OWED, labels=["delivery_status"]),
            GaugeMetricFamily(*OLDEST_OWED),
        ]

    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        rows = (
            Notification.objects.filter(delivery_status__in=UNSENT)
            .values("delivery_status")
            .annotate(count=Count("pk"), oldest=Min("created_at"))
        )
        by_status = {row["delivery_status"]: row for row in rows}
        owed = GaugeMetricFamily(*OWED, labels=["delivery_status"])
        for status in UNSENT:  # both, 0 included: a series that vanishes cannot be graphed
            owed.add_metric([status.value], by_status.get(status.value, {}).get("count", 0))
        oldest = min((row["oldest"] for row in by_status.values()), default=None)
        return [
            owed,
            GaugeMetricFamily(*OLDEST_OWED, value=metrics.age_seconds(oldest, now)),
        ]
