"""Reads for the cross-service audit (`manage_all.py audit`): the facts mini_user owns."""

from collections.abc import Iterator

from profiles.models import Profile

CHUNK_SIZE = 2000


def profile_usernames() -> Iterator[str]:
    """Whose profile exists: the audit checks every registered user has one."""
    rows = Profile.objects.order_by("pk").values_list("username", flat=True)
    yield from rows.iterator(chunk_size=CHUNK_SIZE)
