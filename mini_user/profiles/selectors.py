from mini_common.auth import GatewayUser, can_see
from mini_common.errors import NotFound
from profiles.models import Profile


def profile_get(*, username: str, viewer: GatewayUser) -> Profile:
    """The profile ``viewer`` may see; another user's profile is a 404, as a missing one."""
    profile = Profile.objects.filter(username=username).first()
    if profile is None or not can_see(viewer, profile.username):
        raise NotFound(f"No profile {username!r}")
    return profile
