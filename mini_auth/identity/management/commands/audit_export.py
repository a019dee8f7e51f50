import json

from django.core.management.base import BaseCommand

from identity.audit import registration_complete_usernames, registration_pending_export


class Command(BaseCommand):
    help = (
        "Print one JSON document of what mini_auth owns for `manage_all.py audit`: the "
        "usernames of complete registrations and the pending registrations. Read-only."
    )

    def handle(self, *args, **options):
        document = {
            "service": "mini_auth",
            "completeUsernames": list(registration_complete_usernames()),
            "pendingRegistrations": list(registration_pending_export()),
        }
        self.stdout.write(json.dumps(document, separators=(",", ":")))
