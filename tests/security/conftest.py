"""The security suite's own systems, with secrets it knows (so it can forge with them).

- ``secure_system``: all five services and the gateway, generous rate limits
  (like tests/conftest.py), a gateway auth cache of 2 s, a random JWT key and
  internal token of this run.
- ``strict_system``: mini_auth and the gateway only, with the default
  (realistic) rate limits, for the throttling tests; started only if they run.
"""

import secrets

import pytest

import manage_all
from tests.security.forge import Forger
from tests.security.support import Direct
from tests.support import Api, drop_databases, register_user, run_database_urls

AUTH_CACHE_SECONDS = 2

SECURE_ENV = {
    "GUNICORN_WORKERS": "2",
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "MINI_GATEWAY_AUTH_CACHE_TTL": f"{AUTH_CACHE_SECONDS}s",
    "LOGIN_THROTTLE_RATE": "10000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "10000/min",
    "MINI_READ_TIMEOUT": "3",
}


def _secrets() -> dict[str, str]:
    return {
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "MINI_INTERNAL_TOKEN": secrets.token_urlsafe(32),
    }


@pytest.fixture(scope="session")
def secure_system(tmp_path_factory):
    database_urls = run_database_urls("sec")
    live = manage_all.System(
        tmp_path_factory.mktemp("mini-security"),
        ports=manage_all.free_ports(),
        database_urls=database_urls,
        env={**SECURE_ENV, **_secrets()},
    )
    live.start(fresh_databases=True)
    try:
        yield live
    finally:
        live.stop()
        drop_databases(database_urls)


@pytest.fixture(scope="session")
def strict_system(tmp_path_factory):
    """Only mini_auth behind the gateway, with the rate limits a deployment gets by default."""
    database_urls = run_database_urls("secrl")
    auth_only = {"auth": database_urls["auth"]} if database_urls else None
    live = manage_all.System(
        tmp_path_factory.mktemp("mini-security-limits"),
        ports=manage_all.free_ports(),
        database_urls=auth_only,
        services=["auth"],
        env={"GUNICORN_WORKERS": "2", **_secrets()},
    )
    live.start(fresh_databases=True)
    try:
        yield live
    finally:
        live.stop()
        drop_databases(auth_only)


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
