from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from identity.tokens import revocations_rewarm, revoked_access_tokens_purge


class Command(BaseCommand):
    help = (
        "Delete expired access-token revocations and expired refresh tokens (simplejwt's "
        "flushexpiredtokens), and put the live revocations back into the cache."
    )

    def handle(self, *args, **options):
        revoked = revoked_access_tokens_purge()
        expired_refresh = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).count()
        call_command("flushexpiredtokens")
        recached = revocations_rewarm()
        self.stdout.write(
            f"purge_tokens: {revoked} expired revocations and {expired_refresh} expired "
            f"refresh tokens deleted; {recached} live revocations cached"
        )
