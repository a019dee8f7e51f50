"""The adapters in identity/remote.py against a fake inter-service client."""

from decimal import Decimal

import pytest

from identity import remote
from identity.errors import UsernameTaken
from mini_common.client import ServiceResponse
from mini_common.errors import DependencyUnavailable

CONTACT = {"email": "a@example.com", "phone": "", "first_name": "A", "last_name": ""}


class FakeClient:
    """Answers every call with one canned response and records what was asked of whom."""

    def __init__(self, answer: ServiceResponse) -> None:
        self.answer = answer
        self.services: list[str] = []
        self.requests: list[dict] = []

    def __call__(self, name: str) -> "FakeClient":  # stands in for service_client(name)
        self.services.append(name)
        return self

    def post(self, path, *, json, username="", idempotency_key=None):
        self.requests.append(
            {
                "method": "POST",
                "path": path,
                "json": json,
                "username": username,
                "key": idempotency_key,
            }
        )
        return self.answer

    def get(self, path, *, params=None, username=""):
        self.requests.append(
            {"method": "GET", "path": path, "params": params, "username": username}
        )
        return self.answer


@pytest.fixture
def answer(monkeypatch):
    """answer(status, data) -> the fake client that gives this answer to every call."""

    def arrange(status: int, data=None) -> FakeClient:
        client = FakeClient(ServiceResponse(status, data, {}))
        monkeypatch.setattr(remote, "service_client", client)
        return client

    return arrange


KEY = "0b2c4bd4-7e4c-4f3e-9d1b-5f36c2f0a1e2"  # the registration's


def test_profile_create_sends_the_contact_with_the_registrations_key(answer):
    client = answer(201, {"username": "alice"})

    remote.profile_create(username="alice", registration_key=KEY, **CONTACT)

    assert client.services == ["user"]
    assert client.requests == [
        {
            "method": "POST",
            "path": "/api/v1/user",
            "json": {
                "username": "alice",
                "email": "a@example.com",
                "phone": "",
                "firstName": "A",
                "lastName": "",
            },
            "username": "alice",
            "key": f"registration-{KEY}-profile",
        }
    ]


@pytest.mark.parametrize(
    "status, code",
    [
        (200, None),  # an identical profile, but made by another registration: an earlier owner's
        (409, "profile_conflict"),
        (409, "conflict"),
        (422, "idempotency_key_reused"),
    ],
)
def test_profile_of_someone_else_means_the_username_is_taken(answer, status, code):
    answer(status, {"code": code})
    with pytest.raises(UsernameTaken):
        remote.profile_create(username="alice", registration_key=KEY, **CONTACT)


@pytest.mark.parametrize(
    "status, data",
    [
        (409, {"code": "request_in_progress"}),
        (400, {"code": "validation_error"}),
        (401, {"code": "not_authenticated"}),
        (404, None),
        (403, "not json"),
    ],
)
def test_other_profile_answers_mean_the_step_did_not_happen(answer, status, data):
    answer(status, data)
    with pytest.raises(DependencyUnavailable) as raised:
        remote.profile_create(username="alice", registration_key=KEY, **CONTACT)
    assert raised.value.service == "user"
    assert raised.value.status_code == 503


def test_account_create(answer):
    client = answer(201, {"id": 1, "username": "alice", "balance": 0})
    remote.account_create(username="alice", registration_key=KEY)
    assert client.services == ["billing"]
    assert client.requests[0]["path"] == "/billing/account/new"
    assert client.requests[0]["json"] == {"username": "alice"}
    assert client.requests[0]["key"] == f"registration-{KEY}-account"


def test_an_existing_account_belongs_to_an_earlier_owner(answer):
    # 200: the account exists and this registration's key did not open it.
    answer(200, {"id": 1, "username": "alice", "balance": 70})
    with pytest.raises(UsernameTaken):
        remote.account_create(username="alice", registration_key=KEY)


@pytest.mark.parametrize("status", [400, 409, 422])
def test_account_create_refused_is_unavailable(answer, status):
    answer(status, {"code": "whatever"})
    with pytest.raises(DependencyUnavailable):
        remote.account_create(username="alice", registration_key=KEY)


@pytest.mark.parametrize("count, expected", [(0, False), (3, True)])
def test_account_has_operations(answer, count, expected):
    client = answer(200, {"count": count, "next": None, "previous": None, "results": []})
    assert remote.account_has_operations(username="alice") is expected
    assert client.requests[0]["params"] == {"pageSize": 1}
    assert client.requests[0]["username"] == "alice"


def test_account_deposit_sends_an_exact_json_number(answer):
    client = answer(200, {"balance": 150.5})
    remote.account_deposit(username="alice", amount=Decimal("150.50"), idempotency_key="k-1")
    assert client.requests[0]["json"] == {"type": "DEPOSIT", "amount": 150.5}
    assert client.requests[0]["key"] == "k-1"
    assert client.requests[0]["path"] == "/billing/account/operate"


def test_account_deposit_refused_is_unavailable(answer):
    answer(402, {"code": "insufficient_funds"})
    with pytest.raises(DependencyUnavailable):
        remote.account_deposit(username="alice", amount=Decimal(1), idempotency_key="k-1")
