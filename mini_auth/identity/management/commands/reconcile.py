from django.core.management.base import BaseCommand

from identity.models import ReconcileRun
from identity.services import registrations_reconcile
from mini_common.metrics import reconcile_recorded


class Command(BaseCommand):
    help = (
        "Complete every PENDING registration from its recovery point (profile in mini_user, "
        "account in mini_billing, then activation). Safe to run any time, any number of times; "
        "registrations whose dependencies are still down stay pending for the next run. Each "
        "run's start and end are recorded for /metrics."
    )

    def handle(self, *args, **options):
        with reconcile_recorded(ReconcileRun):
            summary = registrations_reconcile()
        still_pending = ", ".join(f"{name} ({code})" for name, code in summary.failed.items())
        self.stdout.write(
            f"reconcile: {summary.pending} pending registrations, {summary.completed} completed, "
            f"{len(summary.failed)} still pending" + (f": {still_pending}" if still_pending else "")
        )
