from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Registration(models.Model):
    """The recovery point of one registration.

    The user is created inactive together with this row; each remote step
    (profile in mini_user, account in mini_billing) sets its flag once done,
    and the user is activated only when both are. The contact data is kept so
    that a repeated request or ``reconcile`` can finish the same registration.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        COMPLETE = "COMPLETE"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration"
    )
    username = models.CharField(max_length=150, unique=True)
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
