from mini_common.story import OrderStoryCommand
from orders.story import order_story


class Command(OrderStoryCommand):
    help = (
        "Print one JSON document of what mini_order knows about one order, for "
        "`manage_all.py story order`: the order row and its positions (null if there is "
        "no such order), and its audit_export row. Read-only."
    )
    story = staticmethod(order_story)
