import json

from django.core.management.base import BaseCommand

from profiles.audit import profile_usernames


class Command(BaseCommand):
    help = (
        "Print one JSON document of what mini_user owns for `manage_all.py audit`: "
        "the usernames that have a profile. Read-only."
    )

    def handle(self, *args, **options):
        document = {"service": "mini_user", "profileUsernames": list(profile_usernames())}
        self.stdout.write(json.dumps(document, separators=(",", ":")))
