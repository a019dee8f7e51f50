from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser

from identity.seeding import SeedOutcome, user_seed
from mini_common.errors import ApiError
from mini_common.money import MoneyError, parse_money

DEMO = {"username": "demo", "password": "demo-password-123", "email": "demo@example.com"}
DEMO_BALANCE = Decimal(1000)


def _amount(value: str) -> Decimal:
    try:
        return parse_money(value, allow_zero=True)
    except MoneyError as exc:
        raise CommandError(f"--balance: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Register users <prefix>1..N through the real registration flow (mini_user and "
        "mini_billing over HTTP) and deposit a starting balance into each fresh account. "
        "Safe to run again: existing seeded users and funded accounts are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=0, help="how many users (default 0)")
        parser.add_argument("--balance", type=_amount, default=Decimal(0), help="starting balance")
        parser.add_argument("--prefix", default="user", help="username prefix (default 'user')")
        parser.add_argument(
            "--password", default="seed-Passw0rd-2024", help="password of every seeded user"
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="also create 'demo' (password demo-password-123) with a balance of 1000",
        )

    def handle(
        self, *args, users: int, balance: Decimal, prefix: str, password: str, demo: bool, **options
    ):
        if users < 0:
            raise CommandError("--users must be zero or more")
        wanted = [
            (
                {
                    "username": f"{prefix}{n}",
                    "password": password,
                    "email": f"{prefix}{n}@example.com",
                },
                balance,
            )
            for n in range(1, users + 1)
        ]
        if demo:
            wanted.append((DEMO, DEMO_BALANCE))

        counts = {SeedOutcome.REGISTERED: 0, SeedOutcome.EXISTING: 0}
        deposits, failures = 0, []
        for user, amount in wanted:
            try:
                outcome, deposited = user_seed(**user, balance=amount)
            except ApiError as exc:
                failures.append(f"{user['username']}: {exc.code}")
                continue
            counts[outcome] += 1
            deposits += deposited

        self.stdout.write(
            f"seed_users: {len(wanted)} users: {counts[SeedOutcome.REGISTERED]} registered, "
            f"{counts[SeedOutcome.EXISTING]} already there, {len(failures)} failed; "
            f"{deposits} starting deposits made"
        )
        if failures:
            raise CommandError("not seeded: " + "; ".join(failures))
