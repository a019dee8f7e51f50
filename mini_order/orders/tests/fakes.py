"""Stand-ins for the other services, at two levels.

``FakeRemote`` replaces the adapter functions of ``orders.remote`` (what the
order flow sees); ``FakeServiceClient`` replaces ``service_client`` under the
adapters (what goes over the wire), to test the adapters themselves.
"""

from dataclasses import dataclass, field
from typing import Any

from mini_common.client import ServiceResponse
from orders.remote import Contact, Payment, PaymentOutcome

ALICE_CONTACT = Contact(email="alice@example.com", phone="+1 555 0100")


def _answer(value: Any) -> Any:
    if isinstance(value, list):  # one answer per call, in order
        value = value.pop(0)
    if isinstance(value, BaseException):
        raise value
    return value


@dataclass
class FakeRemote:
    """Answers of the adapters.

    Set an attribute to an exception to have the call raise it, or to a list of
    answers to give one per call.
    """

    payment: Payment | Exception = field(
        default_factory=lambda: Payment(PaymentOutcome.PAID, operation_id="op-1")
    )
    found_payment: str | None | Exception = None
    # What billing's void answers: the payment's id if it happened, else None (now void).
    voided_payment: str | None | Exception = None
    contact: Contact | None | Exception = ALICE_CONTACT
    notification: bool | Exception = True
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def payment_take(self, **kwargs) -> Payment:
        self.calls.append(("payment_take", kwargs))
        return _answer(self.payment)

    def payment_find(self, **kwargs) -> str | None:
        self.calls.append(("payment_find", kwargs))
        return _answer(self.found_payment)

    def payment_void(self, **kwargs) -> str | None:
        self.calls.append(("payment_void", kwargs))
        return _answer(self.voided_payment)

    def profile_fetch(self, **kwargs) -> Contact | None:
        self.calls.append(("profile_fetch", kwargs))
        return _answer(self.contact)

    def notification_send(self, **kwargs) -> bool:
        self.calls.append(("notification_send", kwargs))
        return _answer(self.notification)

    def called(self, name: str) -> list[dict]:
        return [kwargs for call, kwargs in self.calls if call == name]

    @property
    def call_names(self) -> list[str]:
        return [call for call, _ in self.calls]


@dataclass
class FakeServiceClient:
    """One downstream service: records each request and gives the next queued answer."""

    name: str
    answers: list[ServiceResponse | Exception] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    def answer(self, status: int, data: Any = None) -> None:
        self.answers.append(ServiceResponse(status, data, {}))

    def get(self, path: str, *, params: dict | None = None, username: str = "") -> ServiceResponse:
        self.requests.append(
            {"method": "GET", "path": path, "params": params, "username": username}
        )
        return _answer(self.answers.pop(0))

    def post(
        self, path: str, *, json: Any, username: str = "", idempotency_key: str | None = None
    ) -> ServiceResponse:
        self.requests.append(
            {
                "method": "POST",
                "path": path,
                "json": json,
                "username": username,
                "idempotency_key": idempotency_key,
            }
        )
        return _answer(self.answers.pop(0))
