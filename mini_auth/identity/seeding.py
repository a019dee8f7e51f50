"""Development data: users registered through the real flow, with a starting balance."""

import logging
from decimal import Decimal
from enum import Enum

from identity import remote
from identity.errors import UsernameTaken
from identity.models import Registration
from identity.services import user_register

logger = logging.getLogger("identity.seeding")


class SeedOutcome(Enum):
    REGISTERED = "registered"
    EXISTING = "existing"


def user_seed(
    *, username: str, password: str, email: str, balance: Decimal
) -> tuple[SeedOutcome, bool]:
    """Register ``username`` (or accept it as already seeded) and fund a fresh account.

    Returns the outcome and whether a deposit was made. Safe to repeat: a user
    already complete with this password is kept, and the deposit goes only to
    an account without any operation yet, under an Idempotency-Key derived
    from the user, so two runs (even concurrent ones) never fund it twice.
    Raises UsernameTaken when the name belongs to someone else, and
    DependencyUnavailable when mini_user or mini_billing cannot be reached.
    """
    try:
        user_register(username=username, password=password, email=email)
        outcome = SeedOutcome.REGISTERED
    except UsernameTaken:
        if not _seeded_before(username=username, password=password):
            raise
        outcome = SeedOutcome.EXISTING
    if balance <= 0 or remote.account_has_operations(username=username):
        return outcome, False
    remote.account_deposit(
        username=username, amount=balance, idempotency_key=f"seed-{username}-initial-deposit"
    )
    return outcome, True


def _seeded_before(*, username: str, password: str) -> bool:
    registration = Registration.objects.select_related("user").filter(username=username).first()
    return (
        registration is not None
        and registration.status == Registration.Status.COMPLETE
        and registration.user.check_password(password)
    )
