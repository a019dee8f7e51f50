"""The yardstick: the lean reference's orders/s, measured in the same sitting as mini's.

``../shared/lean-reference/`` is the same order flow in bare WSGI, psycopg2 and
http.client behind the same nginx and gunicorn design: the limit of this
design in plain Python on whatever machine runs it, which nothing in mini's
code can move. ``closeness = mini orders/s ÷ lean orders/s`` is mini's figure.

It runs alone on the CPU, before mini's system starts: its own scripts start
its processes on 127.0.0.1:7000-7006 and its own lean_* databases, load it with
wrk and the same connections and users, and stop exactly what they started.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

from tools.manage_all.layout import REPO_ROOT

LEAN_DIR = REPO_ROOT.parent / "shared" / "lean-reference"
RESULT = re.compile(
    r"RESULT rps=(?P<rate>[0-9.]+) p50_ms=(?P<p50>[0-9.]+) p99_ms=(?P<p99>[0-9.]+) "
    r"non2xx=(?P<non2xx>[0-9]+) errors=(?P<errors>[0-9]+)"
)
START_TIMEOUT = 600  # its first start makes a virtualenv


def unavailable() -> str | None:
    """Why the lean reference cannot run here, or None."""
    for script in ("run.sh", "bench.sh"):
        if not (LEAN_DIR / script).is_file():
            return f"{LEAN_DIR / script} is not there"
    return None


def _run(*command: str, timeout: float, env: dict[str, str]) -> str:
    result = subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)}: exit {result.returncode}\n{result.stderr[-2000:]}"
        )
    return result.stdout


def parse_result(output: str) -> dict[str, Any]:
    """bench.sh's RESULT line as the numbers bench reports."""
    found = RESULT.search(output)
    if found is None:
        raise RuntimeError(f"no RESULT line in the lean reference's output: {output[-500:]!r}")
    return {
        "rate": float(found["rate"]),
        "latency_ms": {"p50": float(found["p50"]), "p99": float(found["p99"])},
        "non2xx": int(found["non2xx"]),
        "errors": int(found["errors"]),
    }


def measure(*, seconds: float, warmup: float, concurrency: int, users: int, run_dir: Path):
    """Start the lean reference, warm it up, measure its orders, stop it; its figures."""
    env = {**os.environ, "LEAN_RUN": str(run_dir)}
    run, bench = str(LEAN_DIR / "run.sh"), str(LEAN_DIR / "bench.sh")
    print(f"lean reference: starting ({users} users)", flush=True)
    _run(run, "start", str(users), timeout=START_TIMEOUT, env=env)
    try:
        if warmup:
            _run(
                bench, "orders", str(max(1, round(warmup))), str(concurrency), timeout=120, env=env
            )
        output = _run(
            bench,
            "orders",
            str(max(1, round(seconds))),
            str(concurrency),
            timeout=seconds + 120,
            env=env,
        )
    finally:
        _run(run, "stop", timeout=60, env=env)
    figures = parse_result(output)
    latency, failures = figures["latency_ms"], figures["errors"] + figures["non2xx"]
    print(
        f"  lean     {figures['rate']:.1f} orders/s  p50 {latency['p50']:.1f} ms  "
        f"p99 {latency['p99']:.1f} ms  errors {failures}",
        flush=True,
    )
    return figures
