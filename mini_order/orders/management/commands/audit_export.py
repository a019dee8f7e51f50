import json

from django.core.management.base import BaseCommand

from orders.audit import order_export


class Command(BaseCommand):
    help = (
        "Print one JSON document of what mini_order owns for `manage_all.py audit`: every "
        "order's owner, status, total and notified status. Read-only."
    )

    def handle(self, *args, **options):
        document = {"service": "mini_order", "orders": list(order_export())}
        self.stdout.write(json.dumps(document, separators=(",", ":")))
