from mini_common.story import UserStoryCommand
from notifications.story import user_story


class Command(UserStoryCommand):
    help = (
        "Print one JSON document of what mini_notif knows about one user, for "
        "`manage_all.py story user`: their newest notifications, how many there are, and "
        "their audit_export rows. Read-only."
    )
    story = staticmethod(user_story)
    listed = "notifications (newest first)"
