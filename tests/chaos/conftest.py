"""A real system of its own, broken and healed with `manage_all.py chaos` as a user would.

The tests run the command line itself (`python3 manage_all.py chaos ...`) in
a subprocess pointed at this system's var dir, with this system's settings in
its environment, so that a service it restarts behind a fault proxy gets the
same settings as the rest. Short timeouts make a hanging dependency cost
seconds; every process (the proxies too) is stopped with the system.
"""

import os
import subprocess
import sys
import time

import pytest

from tests.support import RELAXED_LIMITS, Api, register_user, running_system
from tools.manage_all import chaos
from tools.manage_all.layout import REPO_ROOT

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 1.0
BREAKER_FAIL_MAX = 3  # one order whose three attempts fail opens its worker's breaker
BREAKER_RESET_TIMEOUT = 2.0
REQUEST_BUDGET = 5.0
# A worker waits its reset timeout times up to 1.25 (mini_common.breakers) before a trial call.
BREAKERS_RESET = BREAKER_RESET_TIMEOUT * 1.25 + 0.3

CHAOS_ENV = {
    **RELAXED_LIMITS,
    "MINI_GATEWAY_AUTH_CACHE_TTL": "1s",
    "MINI_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    "MINI_READ_TIMEOUT": str(READ_TIMEOUT),
    "MINI_BREAKER_FAIL_MAX": str(BREAKER_FAIL_MAX),
    "MINI_BREAKER_RESET_TIMEOUT": str(BREAKER_RESET_TIMEOUT),
    # A worker whose breaker an earlier test opened makes its next call a trial,
    # a GET /healthz: it gets the same time as a call, so that a delayed billing
    # passes it and a hung one fails it after the read timeout, like any call.
    "MINI_BREAKER_PROBE_TIMEOUT": str(READ_TIMEOUT),
    "MINI_REQUEST_BUDGET": str(REQUEST_BUDGET),
}
COMMAND_TIMEOUT = 120


@pytest.fixture(scope="package")
def chaos_system(tmp_path_factory):
    with running_system(tmp_path_factory.mktemp("mini-chaos"), "chaos", env=CHAOS_ENV) as live:
        yield live


@pytest.fixture
def manage(chaos_system):
    """`python3 manage_all.py <args>` against this system; its CompletedProcess."""

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, **CHAOS_ENV, "MINI_VAR_DIR": str(chaos_system.var_dir)}
        return subprocess.run(
            [sys.executable, "manage_all.py", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def system(chaos_system):
    """The system, healed after the test: no fault left, every breaker past its reset timeout."""
    yield chaos_system
    chaos.fault_off(chaos_system)
    breakers = chaos.breaker_states(chaos_system) or []
    if any(state != "closed" for _, _, state in breakers):
        time.sleep(BREAKERS_RESET)  # the next call of each worker is a trial, which closes it


@pytest.fixture
def user(system):
    return register_user(Api(system.gateway_url), balance=100, prefix="chaos")
