"""In-memory stand-ins for mini_user and mini_billing, as remote.py's adapters see them."""

from collections import defaultdict
from decimal import Decimal

from identity.errors import UsernameTaken
from mini_common.errors import DependencyUnavailable

STEP_SERVICES = {
    "profile": "user",
    "account": "billing",
    "operations": "billing",
    "deposit": "billing",
}


class FakeServices:
    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, str]] = {}
        self.accounts: set[str] = set()
        # Which registration made each profile and account (its key), as the steps'
        # Idempotency-Keys tell the real services.
        self.made_by: dict[tuple[str, str], str] = {}
        self.deposits: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        self.calls: list[tuple[str, str]] = []  # (step, username)
        self.down: set[str] = set()

    def fail(self, *steps: str) -> None:
        """These steps raise DependencyUnavailable, as the client does when a service is down."""
        self.down.update(steps)

    def heal(self) -> None:
        self.down.clear()

    def _step(self, step: str, username: str) -> None:
        self.calls.append((step, username))
        if step in self.down:
            raise DependencyUnavailable(STEP_SERVICES[step])

    def steps_for(self, username: str) -> list[str]:
        return [step for step, name in self.calls if name == username]

    # The adapters' signatures, as in identity/remote.py.

    def profile_create(
        self,
        *,
        username: str,
        registration_key: str,
        email: str,
        phone: str,
        first_name: str,
        last_name: str,
    ) -> None:
        self._step("profile", username)
        contact = {"email": email, "phone": phone, "first_name": first_name, "last_name": last_name}
        if username not in self.profiles:
            self.profiles[username] = contact
            self.made_by["profile", username] = registration_key
        self._must_be_this_registrations("profile", username, registration_key)

    def account_create(self, *, username: str, registration_key: str) -> None:
        self._step("account", username)
        if username not in self.accounts:
            self.accounts.add(username)
            self.made_by["account", username] = registration_key
        self._must_be_this_registrations("account", username, registration_key)

    def _must_be_this_registrations(self, step: str, username: str, key: str) -> None:
        if self.made_by.get((step, username)) != key:
            raise UsernameTaken(f"An earlier owner's {step} exists for {username!r}")

    def account_has_operations(self, *, username: str) -> bool:
        self._step("operations", username)
        return bool(self.deposits[username])

    def account_deposit(self, *, username: str, amount: Decimal, idempotency_key: str) -> None:
        self._step("deposit", username)
        if all(key != idempotency_key for key, _ in self.deposits[username]):
            self.deposits[username].append((idempotency_key, amount))

    def balance(self, username: str) -> Decimal:
        return sum((amount for _, amount in self.deposits[username]), Decimal(0))
