import pytest
from django.core.cache import cache

from orders import remote
from orders.tests.fakes import FakeRemote, FakeServiceClient

ADAPTERS = (
    "payment_take",
    "payment_find",
    "payment_void",
    "profile_fetch",
    "notification_send",
)


@pytest.fixture(autouse=True)
def _no_http(monkeypatch):
    """Unit tests never reach another service: a call that is not faked fails the test."""

    def refuse(name: str):
        raise AssertionError(f"unit test called {name!r} over HTTP: use fake_remote/fake_clients")

    monkeypatch.setattr(remote, "service_client", refuse)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake_remote(monkeypatch) -> FakeRemote:
    """The adapters of orders.remote replaced by one fake (billing pays, user and notif answer)."""
    fake = FakeRemote()
    for name in ADAPTERS:
        monkeypatch.setattr(remote, name, getattr(fake, name))
    return fake


@pytest.fixture
def fake_clients(monkeypatch) -> dict[str, FakeServiceClient]:
    """``service_client(name)`` answered by fakes, to test the adapters' HTTP mapping."""
    clients = {name: FakeServiceClient(name) for name in ("billing", "user", "notif")}
    monkeypatch.setattr(remote, "service_client", clients.__getitem__)
    return clients
