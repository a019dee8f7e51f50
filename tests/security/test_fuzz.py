"""Hostile input: schemathesis against every service's OpenAPI schema.

- Through the gateway with a valid access token: every public operation.
- Straight to the services' ports with the internal token and X-Service:
  the internal operations (which the gateway does not route).

Checks: no 5xx (not_a_server_error), bodies match the schema
(response_schema_conformance), documented status codes and content types.
Bounded: a few examples per operation and a fixed seed (override with
SECURITY_FUZZ_SEED / SECURITY_FUZZ_EXAMPLES); each run has a time cap.
"""

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from mini_common.services import SERVICES
from tests.support import register_user

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = REPO_ROOT / ".venv" / "bin" / "schemathesis"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
SEED = os.environ.get("SECURITY_FUZZ_SEED", "20261123")
EXAMPLES = os.environ.get("SECURITY_FUZZ_EXAMPLES", "50")
RUN_TIMEOUT = 150  # seconds, per schemathesis run (they run two at a time)
SHORT_NAMES = SERVICES

CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)
# Internal operations: not routed by the gateway (404 there), fuzzed directly.
INTERNAL_OPERATIONS = {
    "auth": ["api_v1_auth_verify_retrieve"],
    "user": ["api_v1_user_create", "api_v1_user_retrieve"],
    "billing": [
        "billing_account_new_create",
        "billing_account_operations_retrieve",
        "billing_payment_void_create",
    ],
    "order": [],
    "notif": ["notification_create"],
}
GATEWAY_EXCLUDED = {
    "auth": ["api_v1_auth_verify_retrieve"],
    "user": ["api_v1_user_create"],
    "billing": ["billing_account_new_create", "billing_payment_void_create"],
    "order": [],
    "notif": ["notification_create"],
}


@dataclass
class Run:
    name: str
    command: list[str]
    cwd: Path  # schemathesis keeps a cache (.schemathesis/) in its working directory
    returncode: int = -1
    output: str = ""
    seconds: float = 0.0


def _command(schema_url: str, base_url: str, headers: dict[str, str], report: Path) -> list[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        schema_url,
        "--url",
        base_url,
        "--checks",
        f"{CHECKS},gateway_status_code_conformance",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        # The identity comes from the token (gateway) or the headers below
        # (internal), not from values generated for the X-Username "scheme".
        "--generation-with-security-parameters",
        "false",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return command


def _run(run: Run) -> Run:
    started = time.monotonic()
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "NO_COLOR": "1"}
    try:
        result = subprocess.run(
            run.command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env=env,
            cwd=run.cwd,
            check=False,
        )
        run.returncode, run.output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as exc:
        run.output = f"timed out after {RUN_TIMEOUT}s\n{exc.stdout or ''}"
    run.seconds = time.monotonic() - started
    return run


def _cases(run: Run) -> str:
    generated = re.search(r"(\d+) generated", run.output)
    return generated.group(1) if generated else "?"


def _schema_url(base: str, short: str) -> str:
    return f"{base}/docs/{short}/schema.json?format=json"


@pytest.fixture(scope="module")
def fuzz_runs(secure_system, gateway, tmp_path_factory, direct):
    reports = tmp_path_factory.mktemp("schemathesis")
    user = register_user(gateway, balance=500, prefix="fuzz")
    bearer = user.api.session.headers["Authorization"]
    runs = []
    for short in SHORT_NAMES:
        command = _command(
            _schema_url(secure_system.gateway_url, short),
            secure_system.gateway_url,
            {"Authorization": bearer},
            reports / f"gateway-{short}.xml",
        )
        for operation in GATEWAY_EXCLUDED[short]:
            command += ["--exclude-operation-id", operation]
        runs.append(Run(f"gateway {short}", command, reports))
        if INTERNAL_OPERATIONS[short]:
            command = _command(
                _schema_url(secure_system.url(short), short),
                secure_system.url(short),
                direct.trusted(**{"X-Service": "mini_order", "X-Username": user.username}),
                reports / f"internal-{short}.xml",
            )
            for operation in INTERNAL_OPERATIONS[short]:
                command += ["--include-operation-id", operation]
            runs.append(Run(f"internal {short}", command, reports))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(_run, runs))
    total = time.monotonic() - started
    print(
        "\nschemathesis: " + ", ".join(f"{r.name} {_cases(r)} cases {r.seconds:.0f}s" for r in done)
    )
    print(f"schemathesis: {total:.0f}s in all")
    return {run.name: run for run in done}


@pytest.mark.parametrize(
    "name",
    [f"gateway {short}" for short in SHORT_NAMES]
    + [f"internal {short}" for short in SHORT_NAMES if INTERNAL_OPERATIONS[short]],
)
def test_no_server_error_and_responses_match_the_schema(fuzz_runs, name):
    run = fuzz_runs[name]
    tail = run.output[-6000:]
    assert run.returncode == 0, f"{name} (schemathesis exit {run.returncode}):\n{tail}"
    tested = re.search(r"Tested: (\d+)", run.output)
    assert tested and int(tested.group(1)) > 0, f"{name} tested nothing:\n{tail}"
