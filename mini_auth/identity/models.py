import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from mini_common.models import ReconcileRunBase


class Registration(models.Model):
    """The recovery point of one registration.

    The user is created inactive together with this row; each remote step
    (profile in mini_user, account in mini_billing) sets its flag once done,
    and the user is activated only when both are. The contact data is kept so
    that a repeated request or ``reconcile`` can finish the same registration.
    ``key`` names this registration's steps to the other services: their
    records of the name made under another key belong to an earlier owner, and
    the registration then ends FAILED (``last_error`` says why), never retried.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        COMPLETE = "COMPLETE"
        FAILED = "FAILED"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration"
    )
    username = models.CharField(max_length=150, unique=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    profile_created = models.BooleanField(default=False)
    account_created = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # "Alice" and "alice" would be two users to the database but one
            # identity to people reading X-Username: only one may register.
            models.UniqueConstraint(Lower("username"), name="registration_username_ci_unique"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.username}: {self.status}"

    @property
    def contact(self) -> dict[str, str]:
        return {
            "email": self.email,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }


class RevokedAccessToken(models.Model):
    """An access token revoked by logout, kept until it would have expired anyway.

    The record of truth; ``verify`` reads the same revocation from the cache
    (it must not query the database), and ``purge_tokens`` re-fills the cache
    from this table in case the cache lost entries.
    """

    jti = models.CharField(max_length=64, unique=True)
    username = models.CharField(max_length=150, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revoked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.jti} ({self.username})"


class TokenFamily(models.Model):
    """One login session: the chain of refresh tokens rotated from one login.

    Every token of the chain, refresh and access alike, carries the family id
    in its ``fam`` claim. A refresh token presented a second time means two
    parties hold the chain (a stolen token): the whole family is revoked, its
    outstanding refresh tokens blacklisted and its access tokens refused by
    ``verify`` (through the revocation cache). Logout revokes it too.
    """

    class Reason(models.TextChoices):
        REUSE = "REUSE"  # a refresh token was used twice
        LOGOUT = "LOGOUT"

    family = models.CharField(max_length=64, unique=True)
    username = models.CharField(max_length=150, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the newest refresh token of the family expires: afterwards nothing
    # of it can be used any more and purge_tokens deletes it.
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "token families"

    def __str__(self) -> str:
        state = f"revoked ({self.revoked_reason})" if self.revoked_at else "live"
        return f"{self.username} {self.family}: {state}"


class TokenFamilyMember(models.Model):
    """Which family an issued refresh token (simplejwt's OutstandingToken) belongs to."""

    token = models.OneToOneField(
        "token_blacklist.OutstandingToken", on_delete=models.CASCADE, related_name="family_member"
    )
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.token_id} in {self.family_id}"


class UserTokenCutoff(models.Model):
    """Tokens of ``username`` issued before ``not_before`` are void.

    Set when a user is deactivated, deleted or loses the admin role (signals),
    so that their still-unexpired tokens stop working at once: ``verify``
    reads the same mark from the revocation cache, ``refresh`` from here. It
    outlives the user row on purpose: a new user of the same name must not
    inherit the old one's tokens.
    """

    username = models.CharField(max_length=150, unique=True)
    not_before = models.DateTimeField()
    reason = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.username}: not before {self.not_before.isoformat()} ({self.reason})"


class ReconcileRun(ReconcileRunBase):
    """mini_auth's ``manage.py reconcile`` runs (see ``ReconcileRunBase``)."""
