from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from identity.revocation import revocations_purge, revocations_rewarm


class Command(BaseCommand):
    help = (
        "Delete what expired: access-token revocations, refresh tokens (simplejwt's "
        "flushexpiredtokens), token families and per-user cut-offs that no token can "
        "concern any more; then put the live revocation marks back into the cache "
        "(run it from cron, and after the cache lost entries)."
    )

    def handle(self, *args, **options):
        purged = revocations_purge()
        expired_refresh = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).count()
        call_command("flushexpiredtokens")
        recached = revocations_rewarm()
        self.stdout.write(
            f"purge_tokens: {purged.access} expired revocations, {expired_refresh} expired "
            f"refresh tokens, {purged.families} token families and {purged.cutoffs} user "
            f"cut-offs deleted; {recached} live revocation marks cached"
        )
