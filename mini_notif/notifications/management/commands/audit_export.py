import json

from django.core.management.base import BaseCommand

from notifications.audit import notification_counts_by_parent


class Command(BaseCommand):
    help = (
        "Print one JSON document of what mini_notif owns for `manage_all.py audit`: how many "
        "notifications (and how many sent) each order or payment has per type. Read-only."
    )

    def handle(self, *args, **options):
        document = {"service": "mini_notif", "notifications": list(notification_counts_by_parent())}
        self.stdout.write(json.dumps(document, separators=(",", ":")))
