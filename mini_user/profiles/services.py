from django.db import IntegrityError, transaction

from mini_common.errors import Conflict
from profiles.models import Profile

CONTACT_FIELDS = ("email", "phone", "first_name", "last_name")


class ProfileConflict(Conflict):
    code = "profile_conflict"
    title = "A different profile exists for this username"


def profile_create(
    *, username: str, email: str, phone: str = "", first_name: str = "", last_name: str = ""
) -> tuple[Profile, bool]:
    """Create the profile, or return the identical existing one (``created`` is False).

    A repeated registration step sends the same body again; a different body
    for an existing username is a conflict, never a silent overwrite.
    """
    wanted = {"email": email, "phone": phone, "first_name": first_name, "last_name": last_name}
    try:
        with transaction.atomic():
            return Profile.objects.create(username=username, **wanted), True
    except IntegrityError:
        existing = Profile.objects.get(username=username)
    if any(getattr(existing, name) != value for name, value in wanted.items()):
        raise ProfileConflict(f"Profile {username!r} exists with other data")
    return existing, False


def profile_update(*, profile: Profile, **changes: str) -> Profile:
    for name, value in changes.items():
        if name in CONTACT_FIELDS:
            setattr(profile, name, value)
    profile.save(update_fields=[*changes.keys(), "updated_at"])
    return profile
