import pytest
from django.core.cache import caches

from identity import remote
from identity.tests.fakes import FakeServices
from mini_common.testing import gateway_client

TEST_CACHES = {
    alias: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"mini-auth-tests-{alias}",
    }
    for alias in ("default", "revocations")
}


@pytest.fixture(autouse=True)
def isolated_caches(settings):
    """Per-test caches: throttle counters and revocations never leak between tests
    (nor into the file cache of a system running from the same var directory)."""
    settings.CACHES = TEST_CACHES
    for alias in TEST_CACHES:
        caches[alias].clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(request, settings):
    if "default_hasher" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_real_services(monkeypatch):
    """Unit tests never reach another service; fake_services or a fake client stand in."""

    def refuse(name: str):
        raise AssertionError(f"unit test tried to call the real {name} service")

    monkeypatch.setattr(remote, "service_client", refuse)


@pytest.fixture
def fake_services(monkeypatch) -> FakeServices:
    fake = FakeServices()
    for name in ("profile_create", "account_create", "account_has_operations", "account_deposit"):
        monkeypatch.setattr(remote, name, getattr(fake, name))
    return fake


@pytest.fixture
def nginx_client():
    """What nginx's auth_request sends: the internal token, no identity."""
    return gateway_client()
