"""A real system of this package's own, whose logs, span files and metrics the tests read."""

import pytest

from tests.support import BENCH_ENDPOINTS, RELAXED_LIMITS, Api, running_system

OBSERVED_ENV = {
    **RELAXED_LIMITS,
    # test_metrics reads what bench's pings (floor and hops) leave in the metrics.
    **BENCH_ENDPOINTS,
    # Spans reach var/traces quickly.
    "OTEL_BSP_SCHEDULE_DELAY": "200",
}


@pytest.fixture(scope="session")
def observed_system(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("mini-observed")
    with running_system(var_dir, "obs", env=OBSERVED_ENV) as live:
        yield live


@pytest.fixture(scope="session")
def observed_gateway(observed_system) -> Api:
    return Api(observed_system.gateway_url)
