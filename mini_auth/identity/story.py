"""Reads for `manage_all.py story user`: what mini_auth knows about one user, without secrets.

Rows are given whole, every column under its camelCase name, read from the
model's own fields (a column added later shows up without a change here),
except the secrets: the password hash, and the ids that name a login's
tokens. Login sessions (token families) show when each began and ended. The
``audit`` part is `audit_export`'s (identity/audit.py), restricted to the user.
"""

from typing import Any

from django.contrib.auth import get_user_model

from identity.audit import registration_pending_export
from identity.models import Registration, TokenFamily, UserTokenCutoff
from identity.selectors import user_roles
from mini_common.story import record

SERVICE = "mini_auth"
USER_SECRETS = ("password",)
# The family id is what a login's tokens carry in their `fam` claim.
SESSION_SECRETS = ("family",)


def user_story(*, username: str, limit: int) -> dict[str, Any]:
    """The user, their registration, their newest ``limit`` login sessions, their token cutoff."""
    user = get_user_model().objects.filter(username=username).first()
    registration = Registration.objects.filter(username=username).first()
    sessions = TokenFamily.objects.filter(username=username)
    cutoff = UserTokenCutoff.objects.filter(username=username).first()
    user_row = None
    if user is not None:
        user_row = record(user, leave_out=USER_SECRETS)
        user_row["roles"] = user_roles(user=user)
    complete = registration is not None and registration.status == Registration.Status.COMPLETE
    return {
        "service": SERVICE,
        "user": user_row,
        "registration": record(registration) if registration else None,
        "sessions": [
            record(session, leave_out=SESSION_SECRETS)
            for session in sessions.order_by("-created_at", "-id")[:limit]
        ],
        "sessionsTotal": sessions.count(),
        "tokenCutoff": record(cutoff) if cutoff else None,
        "audit": {
            "completeUsernames": [username] if complete else [],
            "pendingRegistrations": [
                row for row in registration_pending_export() if row["username"] == username
            ],
        },
    }
