from identity.story import user_story
from mini_common.story import UserStoryCommand


class Command(UserStoryCommand):
    help = (
        "Print one JSON document of what mini_auth knows about one user, for "
        "`manage_all.py story user`: the user without the password hash, their roles, "
        "registration, newest login sessions and token cutoff, and their audit_export "
        "rows. Read-only."
    )
    story = staticmethod(user_story)
    listed = "login sessions (newest first)"
