from django.core.management.base import BaseCommand

from mini_common.metrics import reconcile_recorded
from orders.models import ReconcileRun
from orders.reconcile import orders_reconcile


class Command(BaseCommand):
    help = (
        "Finish orders left half-way: settle NEW orders from mini_billing's records (PAID "
        "when the payment happened, CANCELLED when it did not within ORDER_RETRY_WINDOW, "
        "its payment declared void first), have the payment of every other CANCELLED order "
        "declared void (or the order PAID if it was paid after all) and deliver owed "
        "notifications. Never takes a payment. Safe to run at any time, any number of "
        "times, concurrently. Each run's start and end are recorded for /metrics."
    )

    def handle(self, *args, **options):
        with reconcile_recorded(ReconcileRun):
            summary = orders_reconcile()
        self.stdout.write(
            f"reconcile: paid {summary.paid}, cancelled {summary.cancelled}, "
            f"voided {summary.voided} (cancelled orders made safe), "
            f"unpaid {summary.unpaid} (inside the retry window), notified {summary.notified}, "
            f"unavailable {summary.unavailable} (skipped, next run), "
            f"undeliverable {summary.undeliverable}"
        )
