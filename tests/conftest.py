"""One real system per test session, on free loopback ports in a temporary var dir."""

import pytest

from tests.support import RELAXED_LIMITS, Api, register_user, running_system

TEST_ENV = {
    **RELAXED_LIMITS,
    "MINI_GATEWAY_AUTH_CACHE_TTL": "1s",
    "MINI_BREAKER_RESET_TIMEOUT": "1",
    "MINI_READ_TIMEOUT": "3",
}


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    with running_system(tmp_path_factory.mktemp("mini-system"), "e2e", env=TEST_ENV) as live:
        yield live


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
