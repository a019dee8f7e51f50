import json

from django.core.management.base import BaseCommand

from billing.audit import account_totals_export, payment_export


class Command(BaseCommand):
    help = (
        "Print one JSON document of what mini_billing owns for `manage_all.py audit`: each "
        "account's balance and the sum of its operations, and every PAYMENT. Read-only."
    )

    def handle(self, *args, **options):
        document = {
            "service": "mini_billing",
            "accounts": list(account_totals_export()),
            "payments": list(payment_export()),
        }
        self.stdout.write(json.dumps(document, separators=(",", ":")))
