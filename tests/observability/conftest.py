"""A real system of this package's own, whose logs, span files and metrics the tests read."""

import pytest

import manage_all
from tests.support import Api, drop_databases, run_database_urls

OBSERVED_ENV = {
    "GUNICORN_WORKERS": "2",
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "LOGIN_THROTTLE_RATE": "10000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "10000/min",
    # Spans reach var/traces quickly.
    "OTEL_BSP_SCHEDULE_DELAY": "200",
}


@pytest.fixture(scope="session")
def observed_system(tmp_path_factory):
    database_urls = run_database_urls("obs")
    var_dir = tmp_path_factory.mktemp("mini-observed")
    live = manage_all.System(
        var_dir, ports=manage_all.free_ports(), database_urls=database_urls, env=OBSERVED_ENV
    )
    live.start(fresh_databases=True)
    try:
        yield live
    finally:
        live.stop()
        drop_databases(database_urls)


@pytest.fixture(scope="session")
def observed_gateway(observed_system) -> Api:
    return Api(observed_system.gateway_url)
