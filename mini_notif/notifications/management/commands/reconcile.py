from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mini_common.metrics import reconcile_recorded
from notifications.models import ReconcileRun
from notifications.services import notification_reconcile


class Command(BaseCommand):
    help = (
        "Resend every FAILED notification and every PENDING one older than the grace "
        "period, until each has had --max-attempts delivery attempts. Safe to run at any "
        "time, any number of times, concurrently: every notification is claimed before "
        "it is sent. Each run's start and end are recorded for /metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=settings.NOTIF_MAX_ATTEMPTS,
            help="Stop retrying a notification after this many attempts (NOTIF_MAX_ATTEMPTS).",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=settings.NOTIF_PENDING_GRACE,
            help="Seconds a PENDING notification is left to its request (NOTIF_PENDING_GRACE).",
        )

    def handle(self, *args, max_attempts: int, grace: float, **options):
        if max_attempts < 1 or grace < 0:
            raise CommandError("--max-attempts must be >= 1 and --grace >= 0")
        with reconcile_recorded(ReconcileRun):
            summary = notification_reconcile(max_attempts=max_attempts, pending_grace=grace)
        self.stdout.write(
            f"reconcile: sent {summary.sent}, failed {summary.failed}, "
            f"skipped {summary.skipped} (claimed elsewhere), "
            f"exhausted {summary.exhausted} (unsent after {max_attempts} attempts)"
        )
