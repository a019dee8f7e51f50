"""The security suite's own systems, with secrets it knows (so it can forge with them).

- ``secure_system``: all five services and the gateway, generous rate limits
  (like tests/conftest.py), a gateway auth cache of 2 s, a random JWT key and
  internal token of this run.
- ``strict_system``: mini_auth and the gateway only, with the default
  (realistic) rate limits, for the throttling tests; started only if they run.
"""

import secrets

import pytest

from tests.security.forge import Forger
from tests.security.support import Direct
from tests.support import RELAXED_LIMITS, Api, register_user, running_system

AUTH_CACHE_SECONDS = 2

SECURE_ENV = {
    **RELAXED_LIMITS,
    "MINI_GATEWAY_AUTH_CACHE_TTL": f"{AUTH_CACHE_SECONDS}s",
    "MINI_READ_TIMEOUT": "3",
}


def _secrets() -> dict[str, str]:
    return {
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "MINI_INTERNAL_TOKEN": secrets.token_urlsafe(32),
    }


@pytest.fixture(scope="session")
def secure_system(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("mini-security")
    with running_system(var_dir, "sec", env={**SECURE_ENV, **_secrets()}) as live:
        yield live


@pytest.fixture(scope="session")
def strict_system(tmp_path_factory):
    """Only mini_auth behind the gateway, with the rate limits a deployment gets by default."""
    var_dir = tmp_path_factory.mktemp("mini-security-limits")
    env = {"GUNICORN_WORKERS": "2", **_secrets()}
    with running_system(var_dir, "secrl", env=env, services=["auth"]) as live:
        yield live


@pytest.fixture(scope="session")
def gateway(secure_system) -> Api:
    """An anonymous client of the security suite's gateway."""
    return Api(secure_system.gateway_url)


@pytest.fixture(scope="session")
def forger(secure_system) -> Forger:
    return Forger(secure_system.environment("auth")["JWT_SIGNING_KEY"])


@pytest.fixture(scope="session")
def direct(secure_system) -> Direct:
    """Requests straight to the services' ports, around the gateway."""
    return Direct(secure_system)


# Per module: registration and login cost two password hashes each, and the
# tests leave these users' sessions alone (they log in afresh to revoke anything).
@pytest.fixture(scope="module")
def alice(gateway):
    return register_user(gateway, balance=1000, prefix="alice")


@pytest.fixture(scope="module")
def bob(gateway):
    return register_user(gateway, balance=100, prefix="bob")
