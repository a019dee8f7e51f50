"""A new password ends every session of its user.

Resetting a password is what an operator does about a stolen account: the
tokens issued before must stop working, or the thief keeps a session that
rotates its refresh token for ever. Django calls every password validator's
``password_changed`` once a new password is saved (the admin's "change
password", ``set_password()`` then ``save()``), and not when a login merely
re-hashes the same password with newer parameters; so this hook lives in
``AUTH_PASSWORD_VALIDATORS`` and validates nothing itself.
"""

from django.utils import timezone

from identity.models import TokenFamily
from identity.revocation import user_tokens_cutoff


class SessionsEndWithPasswordChange:
    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is None or user.pk is None:
            return
        username = user.get_username()
        # A user who never logged in (a registration setting its first password) has
        # nothing to void: no mark, no cache write on that path.
        live = TokenFamily.objects.filter(
            username=username, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        if live.exists():
            user_tokens_cutoff(username=username, reason="password changed")

    def get_help_text(self) -> str:
        return "A new password ends every session of the user."
