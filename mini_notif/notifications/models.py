from django.db import models
from django.utils import timezone

from mini_common.models import ReconcileRunBase

TEXT_MAX_LENGTH = 2000
PARENT_ID_MAX_LENGTH = 64
# Parents whose id is a number (an order's, an operation's); a USER parent's is the username.
NUMBERED_PARENTS = ("ORDER", "PAYMENT")


class Notification(models.Model):
    """A message to a user about an order, a payment or their account.

    The row is committed PENDING before any delivery is tried: it is the
    recovery point that `reconcile` finishes from if the process dies mid-send.
    ``parent_id`` is text in one column: an order or payment id as its decimal
    digits (answered as a JSON integer), a username for a USER parent; blank
    (null in JSON) when the caller names none.
    """

    class Type(models.TextChoices):
        INFO = "INFO"
        WARNING = "WARNING"
        ERROR = "ERROR"
        SUCCESS = "SUCCESS"
        FAIL = "FAIL"
        DEFAULT = "DEFAULT"

    class ParentType(models.TextChoices):
        ORDER = "ORDER"
        PAYMENT = "PAYMENT"
        USER = "USER"

    class DeliveryStatus(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"
        FAILED = "FAILED"

    notification_type = models.CharField(max_length=16, choices=Type.choices)
    parent_type = models.CharField(max_length=16, choices=ParentType.choices)
    parent_id = models.CharField(max_length=PARENT_ID_MAX_LENGTH, blank=True)
    username = models.CharField(max_length=150)
    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Delivery attempts started (counted when claimed, so a crash mid-send counts too).
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Lease of the attempt in progress: nobody else sends this row before it expires.
    locked_until = models.DateTimeField(null=True, blank=True)
    # "<calling service>/<Idempotency-Key>": a request re-run after a crash finds
    # its notification instead of creating (and sending) a second one.
    request_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["username", "-created_at"], name="notif_user_created_idx"),
            models.Index(fields=["delivery_status"], name="notif_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        parent = f"{self.parent_type} {self.parent_id}" if self.parent_id else self.parent_type
        return f"#{self.pk} {self.notification_type} for {self.username} ({parent})"


class ReconcileRun(ReconcileRunBase):
    """mini_notif's ``manage.py reconcile`` runs (see ``ReconcileRunBase``)."""
