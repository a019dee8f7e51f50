from mini_common.story import UserStoryCommand
from orders.story import user_story


class Command(UserStoryCommand):
    help = (
        "Print one JSON document of what mini_order knows about one user, for "
        "`manage_all.py story user`: their newest orders with positions, how many they "
        "have, and the audit_export rows of all of them. Read-only."
    )
    story = staticmethod(user_story)
    listed = "orders (newest first)"
