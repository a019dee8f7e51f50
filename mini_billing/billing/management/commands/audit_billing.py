from django.core.management.base import BaseCommand, CommandError

from billing.selectors import account_audit


class Command(BaseCommand):
    help = (
        "Check the ledger: no negative balance, every balance equals the sum of its "
        "operations and the balance after its latest one. Exits non-zero on any problem."
    )

    def handle(self, *args, **options):
        problems = 0
        for problem in account_audit():
            problems += 1
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(f"billing audit: {problems} problem(s) found")
        self.stdout.write(self.style.SUCCESS("billing audit: no problems"))
