"""Writes: storing notifications and delivering them, at least once.

Every delivery attempt first claims the row with a conditional UPDATE that sets
a lease (``locked_until``) and counts the attempt; only the claimant sends, and
it records the outcome only while its lease is still the row's. So the request
that created a notification, any number of concurrent ``reconcile`` runs and
the admin's "resend" never send the same notification at the same time, and a
process that dies mid-send frees the row when its lease expires. A crash
between the send and the write of its outcome means the message goes out
again later: delivery is at least once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from mini_common.db import update_if_unchanged
from mini_common.idempotency import Claim, Claimed, claim_row
from notifications.delivery import notification_send
from notifications.models import Notification

logger = logging.getLogger("notifications.services")

Status = Notification.DeliveryStatus
UNSENT = (Status.PENDING, Status.FAILED)
LAST_ERROR_MAX_LENGTH = 2000
RECONCILE_BATCH_SIZE = 200


def _lease_from(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.NOTIF_DELIVERY_LEASE)


def _unlocked(now: datetime) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def notification_create(
    *,
    notification_type: str,
    parent_type: str,
    parent_id: str | None = None,
    username: str,
    text: str,
    contact_email: str = "",
    contact_phone: str = "",
    request_key: str | None = None,
) -> Claimed[Notification]:
    """Store the notification (committed PENDING), then deliver it once, now.

    The row is inserted already claimed by this request, so `reconcile` leaves
    it alone while it is being sent. ``request_key`` (the caller's
    Idempotency-Key, scoped by the calling service) makes the row the key's
    record (``claim_row``): the same key again answers the notification it
    created (FINAL once its delivery was tried), or finishes the delivery
    first if that request died mid-send (RESUMED).
    """
    fields = {
        "notification_type": notification_type,
        "parent_type": parent_type,
        "parent_id": parent_id or "",
        "username": username,
        "text": text,
        "contact_email": contact_email,
        "contact_phone": contact_phone,
    }
    claimed = claim_row(
        create=lambda lease: Notification.objects.create(
            **fields, request_key=request_key, attempts=1, locked_until=lease
        ),
        find=lambda: (
            Notification.objects.filter(request_key=request_key).first() if request_key else None
        ),
        same_request=lambda row: all(getattr(row, name) == value for name, value in fields.items()),
        # A FAILED one is final for its request: reconcile retries it.
        finished=lambda row: row.delivery_status != Status.PENDING,
        lease_seconds=settings.NOTIF_DELIVERY_LEASE,
        takeover=lambda row: {"attempts": row.attempts + 1, "updated_at": timezone.now()},
    )
    if claimed.claim == Claim.FINAL:
        return claimed
    notification = claimed.row
    _deliver(notification=notification, lease=notification.locked_until)
    return claimed


def _claim(*, notification_id: int, max_attempts: int | None) -> datetime | None:
    """Take the delivery lease of an unsent notification; None if taken, sent or exhausted."""
    now = timezone.now()
    lease = _lease_from(now)
    candidates = Notification.objects.filter(
        _unlocked(now), pk=notification_id, delivery_status__in=UNSENT
    )
    if max_attempts is not None:
        candidates = candidates.filter(attempts__lt=max_attempts)
    claimed = candidates.update(locked_until=lease, attempts=F("attempts") + 1, updated_at=now)
    return lease if claimed else None


def _deliver(*, notification: Notification, lease: datetime) -> Notification:
    """Send a notification whose lease we hold, and record the outcome."""
    try:
        notification_send(notification)
    except Exception as exc:  # noqa: BLE001 - any backend failure is a FAILED delivery, kept
        logger.warning(
            "notification %s not delivered: %s",
            notification.pk,
            exc,
            extra={"notification_id": notification.pk, "attempts": notification.attempts},
        )
        error = f"{exc.__class__.__name__}: {exc}"[:LAST_ERROR_MAX_LENGTH]
        outcome = {"delivery_status": Status.FAILED, "last_error": error}
    else:
        outcome = {"delivery_status": Status.SENT, "sent_at": timezone.now(), "last_error": ""}
    recorded = update_if_unchanged(
        notification,
        where={"locked_until": lease},
        **outcome,
        locked_until=None,
        updated_at=timezone.now(),
    )
    if not recorded:
        # Our attempt outlived its lease and another one took over: its outcome stands.
        logger.warning("notification %s: delivery lease lost", notification.pk)
    return notification


def notification_retry(
    *, notification_id: int, max_attempts: int | None = None
) -> Notification | None:
    """Deliver an unsent notification again; None when it is sent, being sent or exhausted."""
    lease = _claim(notification_id=notification_id, max_attempts=max_attempts)
    if lease is None:
        return None
    return _deliver(notification=Notification.objects.get(pk=notification_id), lease=lease)


@dataclass
class ReconcileSummary:
    sent: int = 0
    failed: int = 0
    # Claimed by another process (a request, another run, the admin) before us.
    skipped: int = 0
    # Unsent with max_attempts used up: left to a human (the admin's "resend").
    exhausted: int = 0


def notification_reconcile(*, max_attempts: int, pending_grace: float) -> ReconcileSummary:
    """Retry every FAILED notification, and every PENDING one its request left behind.

    A PENDING row younger than ``pending_grace`` seconds, or under a live
    lease, still belongs to the request sending it. Safe to run at any time,
    any number of times, concurrently: each row is claimed before it is sent.
    """
    started = timezone.now()
    due = Notification.objects.filter(
        Q(delivery_status=Status.FAILED)
        | Q(
            delivery_status=Status.PENDING,
            created_at__lte=started - timedelta(seconds=pending_grace),
        ),
        _unlocked(started),
        attempts__lt=max_attempts,
    ).order_by("pk")
    summary = ReconcileSummary()
    last_pk = 0
    while batch := list(
        due.filter(pk__gt=last_pk).values_list("pk", flat=True)[:RECONCILE_BATCH_SIZE]
    ):
        for pk in batch:
            notification = notification_retry(notification_id=pk, max_attempts=max_attempts)
            if notification is None:
                summary.skipped += 1
            elif notification.delivery_status == Status.SENT:
                summary.sent += 1
            else:
                summary.failed += 1
        last_pk = batch[-1]
    summary.exhausted = Notification.objects.filter(
        delivery_status__in=UNSENT, attempts__gte=max_attempts
    ).count()
    return summary
