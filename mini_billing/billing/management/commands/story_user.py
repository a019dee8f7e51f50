from billing.story import user_story
from mini_common.story import UserStoryCommand


class Command(UserStoryCommand):
    help = (
        "Print one JSON document of what mini_billing knows about one user, for "
        "`manage_all.py story user`: their account, its newest operations, their voided "
        "payments, and the account's audit_export rows. Read-only."
    )
    story = staticmethod(user_story)
    listed = "operations (newest first)"
