"""One real system per test session, on free loopback ports in a temporary var dir."""

import pytest

import manage_all
from tests.support import Api, drop_databases, register_user, run_database_urls

# Generous limits: the tests drive many logins and registrations quickly.
TEST_ENV = {
    "GUNICORN_WORKERS": "2",
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "MINI_GATEWAY_AUTH_CACHE_TTL": "1s",
    "LOGIN_THROTTLE_RATE": "10000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "10000/min",
    "MINI_BREAKER_RESET_TIMEOUT": "1",
    "MINI_READ_TIMEOUT": "3",
}


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    database_urls = run_database_urls("e2e")
    var_dir = tmp_path_factory.mktemp("mini-system")
    live = manage_all.System(
        var_dir, ports=manage_all.free_ports(), database_urls=database_urls, env=TEST_ENV
    )
    live.start(fresh_databases=True)
    try:
        yield live
    finally:
        live.stop()
        drop_databases(database_urls)


@pytest.fixture(scope="session")
def gateway(system) -> Api:
    """An anonymous client of the gateway."""
    return Api(system.gateway_url)


@pytest.fixture
def alice(gateway):
    """A freshly registered user with 1000 on the account."""
    return register_user(gateway, balance=1000)


@pytest.fixture
def bob(gateway):
    return register_user(gateway, balance=0)
