from mini_common.story import OrderStoryCommand
from notifications.story import order_story


class Command(OrderStoryCommand):
    help = (
        "Print one JSON document of what mini_notif knows about one order, for "
        "`manage_all.py story order`: every notification about it (with the contact data "
        "it went to) and its audit_export rows. Read-only."
    )
    story = staticmethod(order_story)
