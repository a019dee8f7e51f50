"""wrk, the load generator: installing it and running bench/load.lua."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.manage_all.packages import apt_install

SCRIPT = Path(__file__).resolve().parent / "load.lua"
RESULT_PREFIX = "BENCH_RESULT "


class BenchError(Exception):
    """A failure reported as a message, without a traceback."""


def ensure_wrk() -> str:
    """Path of wrk, installing Debian's package when we are root with apt."""
    found = shutil.which("wrk")
    if found:
        return found
    apt_install("wrk", needed_for="the benchmark's load")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get installed wrk but it cannot be found")
    return found


@dataclass
class LoadResult:
    """What one wrk run measured. Latencies in milliseconds."""

    mode: str
    seconds: float
    concurrency: int
    requests: int
    rate: float  # requests per second
    errors: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        """Non-2xx/3xx answers plus socket errors (connect, read, write, timeout)."""
        return sum(self.errors.values())

    def to_json(self) -> dict:
        return {**asdict(self), "error_count": self.error_count}

    def line(self) -> str:
        lat = self.latency_ms
        return (
            f"{self.mode:<6} {self.rate:8.1f} req/s  p50 {lat['p50']:7.1f} ms  "
            f"p95 {lat['p95']:7.1f} ms  p99 {lat['p99']:7.1f} ms  "
            f"errors {self.error_count} ({self.requests} requests in {self.seconds:.1f}s)"
        )


def combined(results: list[LoadResult]) -> LoadResult:
    """Several runs of one mode as one: their requests over their time, the worst latencies."""
    seconds = sum(r.seconds for r in results)
    requests = sum(r.requests for r in results)
    errors: dict[str, int] = {}
    for r in results:
        for kind, count in r.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        mode=results[0].mode,
        seconds=round(seconds, 3),
        concurrency=results[0].concurrency,
        requests=requests,
        rate=round(requests / seconds, 1) if seconds else 0.0,
        errors=errors,
        latency_ms={k: max(r.latency_ms[k] for r in results) for k in results[0].latency_ms},
    )


def parse_output(mode: str, concurrency: int, output: str) -> LoadResult:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise BenchError(f"wrk printed no result line:\n{output[-2000:]}")
    seconds = data["duration_us"] / 1e6
    latency = {k: v / 1000 for k, v in data["latency_us"].items()}
    return LoadResult(
        mode=mode,
        seconds=round(seconds, 3),
        concurrency=concurrency,
        requests=data["requests"],
        rate=round(data["requests"] / seconds, 1) if seconds else 0.0,
        errors=data["errors"],
        latency_ms={k: round(v, 2) for k, v in latency.items()},
    )


def run(
    *,
    base_url: str,
    mode: str,
    tokens_file: Path,
    run_id: str,
    duration: float,
    concurrency: int,
    threads: int,
    timeout: float = 10.0,
) -> LoadResult:
    """wrk with bench/load.lua for `duration` seconds at `concurrency` connections."""
    threads = max(1, min(threads, concurrency))
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(SCRIPT),
        base_url,
        "--",
        mode,
        str(tokens_file),
        run_id,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse_output(mode, concurrency, result.stdout)
