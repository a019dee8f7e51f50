"""mini_auth's calls to other services, as typed adapter functions.

Nothing else in the app talks to another service; unit tests replace these
functions with fakes. Each adapter turns the answers it expects into a return
value or one of our errors, and any other answer into DependencyUnavailable:
a step that did not happen, to be retried by the same request or ``reconcile``.
"""

import logging
from decimal import Decimal

from identity.errors import UsernameTaken
from mini_common.client import ServiceResponse, service_client
from mini_common.errors import DependencyUnavailable
from mini_common.money import money_json

logger = logging.getLogger("identity.remote")

USER = "user"
BILLING = "billing"


def profile_create(
    *,
    username: str,
    registration_key: str,
    email: str,
    phone: str,
    first_name: str,
    last_name: str,
) -> None:
    """Create the user's profile in mini_user, as this registration's step.

    Raises UsernameTaken when mini_user holds a profile of that name that this
    registration did not create: an earlier owner's.
    """
    response = service_client(USER).post(
        "/api/v1/user",
        json={
            "username": username,
            "email": email,
            "phone": phone,
            "firstName": first_name,
            "lastName": last_name,
        },
        username=username,
        idempotency_key=f"registration-{registration_key}-profile",
    )
    if response.status == 201:  # created by this step (or its answer replayed)
        return
    # 200: an identical profile that another key created; 409: one with other data;
    # 422: our step's key was used with other data. The name belongs to someone else.
    if response.status in (200, 422) or (
        response.status == 409 and _code(response) != "request_in_progress"
    ):
        raise UsernameTaken(f"mini_user already has a profile for {username!r}")
    raise _unexpected(USER, response)


def account_create(*, username: str, registration_key: str) -> None:
    """Open the user's account in mini_billing, as this registration's step.

    Raises UsernameTaken when mini_billing has an account of that name that
    this registration did not open: an earlier owner's, with its money.
    """
    response = service_client(BILLING).post(
        "/billing/account/new",
        json={"username": username},
        username=username,
        idempotency_key=f"registration-{registration_key}-account",
    )
    if response.status == 201:  # opened by this step (or its answer replayed)
        return
    if response.status == 200:
        raise UsernameTaken(f"mini_billing already has an account for {username!r}")
    raise _unexpected(BILLING, response)


def account_has_operations(*, username: str) -> bool:
    """Whether the user's account has any operation yet (seeding deposits only into fresh ones)."""
    response = service_client(BILLING).get(
        "/billing/account/operations", params={"pageSize": 1}, username=username
    )
    if not response.ok or not isinstance(response.data, dict):
        raise _unexpected(BILLING, response)
    return bool(response.data.get("count"))


def account_deposit(*, username: str, amount: Decimal, idempotency_key: str) -> None:
    response = service_client(BILLING).post(
        "/billing/account/operate",
        json={"type": "DEPOSIT", "amount": money_json(amount)},
        username=username,
        idempotency_key=idempotency_key,
    )
    if not response.ok:
        raise _unexpected(BILLING, response)


def _code(response: ServiceResponse) -> str:
    return str(response.data.get("code", "")) if isinstance(response.data, dict) else ""


def _unexpected(service: str, response: ServiceResponse) -> DependencyUnavailable:
    code = _code(response)
    if response.status == 409 and code == "request_in_progress":
        # A concurrent attempt of the same step: not final, so a 503 (whose
        # Idempotency-Key stays retryable), not a 409 that would be replayed.
        return DependencyUnavailable(
            service, f"{service} is still processing this step; retry shortly", retry_after=1
        )
    logger.warning(
        "%s refused a registration step: %s %s",
        service,
        response.status,
        code,
        extra={"target": service, "status": response.status},
    )
    return DependencyUnavailable(
        service, f"{service} could not complete the step ({response.status})"
    )
