from django.core.management.base import BaseCommand

from mini_common.idempotency import purge_expired_keys


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than MINI_COMMON['IDEMPOTENCY_TTL']."

    def handle(self, *args, **options):
        self.stdout.write(f"purged {purge_expired_keys()} idempotency records")
