from billing.story import order_story
from mini_common.story import OrderStoryCommand


class Command(OrderStoryCommand):
    help = (
        "Print one JSON document of what mini_billing knows about one order, for "
        "`manage_all.py story order`: its PAYMENT, its payment declared void, the answers "
        "stored for mini_order's payment requests, and its audit_export rows. Read-only."
    )
    story = staticmethod(order_story)
