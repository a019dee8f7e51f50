"""The benchmark's endpoints are not the product's: a system started as usual does not route them.

(tests/observability and tests/fault start theirs with MINI_BENCH_ENDPOINTS=1
and call them; mini_common's tests/test_bench_urls.py has both states.)
"""

import pytest

from tests.support import assert_problem

BENCH_PATHS = (
    "/api/v1/order/ping",
    "/api/v1/order/ping/hops",
    "/billing/ping",
    "/api/v1/notification/ping",
)


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_off_by_default_they_are_a_404_problem_through_the_gateway(bob, path):
    assert_problem(bob.api.get(path), 404)
