"""Reads for the cross-service audit (`manage_all.py audit`): the facts mini_auth owns.

Only users that came through registration are in it: an admin made with
`createsuperuser` has no Registration, and no profile or account is owed to it.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone

from identity.models import Registration

CHUNK_SIZE = 2000


def registration_complete_usernames() -> Iterator[str]:
    """The users whose profile and account were both created (their registration is COMPLETE)."""
    rows = (
        Registration.objects.filter(status=Registration.Status.COMPLETE)
        .order_by("pk")
        .values_list("username", flat=True)
    )
    yield from rows.iterator(chunk_size=CHUNK_SIZE)


def registration_pending_export(*, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """PENDING registrations, oldest first, with how far they got and why they stopped."""
    now = now or timezone.now()
    rows = (
        Registration.objects.filter(status=Registration.Status.PENDING)
        .order_by("created_at", "pk")
        .values_list(
            "username", "created_at", "profile_created", "account_created", "attempts", "last_error"
        )
    )
    for username, created_at, profile, account, attempts, last_error in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield {
            "username": username,
            "createdAt": created_at.isoformat(),
            "ageSeconds": max(0, int((now - created_at).total_seconds())),
            "profileCreated": profile,
            "accountCreated": account,
            "attempts": attempts,
            "lastError": last_error,
        }
