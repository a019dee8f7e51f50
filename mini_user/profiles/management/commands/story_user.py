from mini_common.story import UserStoryCommand
from profiles.story import user_story


class Command(UserStoryCommand):
    help = (
        "Print one JSON document of what mini_user knows about one user, for "
        "`manage_all.py story`: their profile (null without one) and its audit_export "
        "row. Read-only."
    )
    story = staticmethod(user_story)
