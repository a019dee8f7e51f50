"""Reads for `manage_all.py story`: what mini_user knows about one user, their profile.

The row is given whole, every column under its camelCase name, read from the
model's own fields: a column added later shows up without a change here. The
``audit`` part is `audit_export`'s (profiles/audit.py), restricted to the user.
"""

from typing import Any

from mini_common.story import record
from profiles.models import Profile

SERVICE = "mini_user"


def user_story(*, username: str) -> dict[str, Any]:
    """The user's profile (their contact data now); None when they have none."""
    profile = Profile.objects.filter(username=username).first()
    return {
        "service": SERVICE,
        "profile": record(profile) if profile else None,
        "audit": {"profileUsernames": [profile.username] if profile else []},
    }
