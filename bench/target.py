"""The system under load: started for the benchmark (or the running one), with its users."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import manage_all
from mini_common.tracing import PRODUCTION_SAMPLE_RATIO
from tools.manage_all import postgres, procs
from tools.manage_all.environment import base_environment
from tools.manage_all.layout import REPO_ROOT, default_var_dir, venv_bin

from .wrk import BenchError

PASSWORD = "bench-Passw0rd-2024"
# Databases of a benchmark's own system: scratch, dropped when it stops.
DATABASE_PREFIX = "bench"
BALANCE = "1000000"
# The benchmark's own system: loose throttles (its logins come from one address
# at once) and tokens that outlive any run.
BENCH_ENV = {
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "LOGIN_THROTTLE_RATE": "100000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "100000/min",
    "JWT_ACCESS_TTL": "3600",
    # No connection recycled mid-run: the CPU meter reads each PostgreSQL backend
    # at the start and the end of a run, and a backend gone by then takes its CPU along.
    "DB_CONN_MAX_AGE": "3600",
    # The floor and the hops (mini_common.ping): routed only with this on.
    "MINI_BENCH_ENDPOINTS": "1",
    # Production's share of traces: the system runs in development (production
    # refuses the benchmark's endpoints), which would record every trace.
    "MINI_TRACE_SAMPLE_RATIO": str(PRODUCTION_SAMPLE_RATIO),
}
# Answers 200 only if mini_order, mini_billing and mini_notif all route their pings.
HOPS_PATH = "/api/v1/order/ping/hops"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def bench_dir() -> Path:
    return default_var_dir(base_environment()) / "bench"


def postgres_url(explicit: str | None) -> str | None:
    """The PostgreSQL server to use: --postgres, $TEST_POSTGRES_URL or the local default."""
    url = explicit or os.environ.get("TEST_POSTGRES_URL") or postgres.DEFAULT_TEST_URL
    if postgres.reachable(url):
        return url
    if explicit:
        raise BenchError(f"no PostgreSQL answers at {explicit}")
    return None


def start_system(
    *, pg_url: str | None, workers: str | None, extra_env: dict[str, str]
) -> manage_all.System:
    """A fresh system of its own: var/bench/system, free ports, fresh bench<pid>_* databases."""
    var_dir = bench_dir() / "system"
    shutil.rmtree(var_dir, ignore_errors=True)
    prefix = f"{DATABASE_PREFIX}{os.getpid()}_mini_"
    database_urls = (
        manage_all.service_database_urls(pg_url, manage_all.SERVICES, prefix=prefix)
        if pg_url
        else None
    )
    env = {**BENCH_ENV, **extra_env}
    if workers:
        env["GUNICORN_WORKERS"] = workers
    for attempt in range(2):
        system = manage_all.System(
            var_dir, ports=manage_all.free_ports(), database_urls=database_urls, env=env
        )
        print(f"starting the system in {var_dir} (gateway {system.gateway_url})", flush=True)
        try:
            system.start(fresh_databases=True)
            return system
        except manage_all.ManageError:
            # A free port can be taken by another program before our process binds it.
            if attempt or not _port_was_taken(system):
                drop_databases(system)
                raise
            print("a port was taken meanwhile: once more on other ports", flush=True)
    raise AssertionError("unreachable")


def drop_databases(system: manage_all.System) -> None:
    """A benchmark's own databases are scratch: dropped once its system has stopped."""
    own = {
        name: url
        for name, url in system.database_urls.items()
        if url.rsplit("/", 1)[1].startswith(DATABASE_PREFIX)
    }
    postgres.drop_databases(venv_bin("python"), own)


def _port_was_taken(system: manage_all.System) -> bool:
    logs = [path for name in system.components for path in system.log_files(name)]
    return any("Address already in use" in procs.tail(path, 200) for path in logs)


def running_system() -> manage_all.System:
    system = manage_all.System.load(default_var_dir(base_environment()))
    down = [name for name in system.components if not system.is_ready(name)]
    if down:
        raise BenchError(f"--use-running: not ready: {', '.join(down)} (manage_all.py up first)")
    return system


def seed_users(system: manage_all.System, *, count: int, prefix: str) -> list[str]:
    """Register and fund users through the real flow (seed_users is safe to repeat)."""
    args = ["--users", str(count), "--balance", BALANCE, "--prefix", prefix, "--password", PASSWORD]
    for attempt in range(3):
        try:
            system.seed(*args, capture=True)
            break
        except manage_all.ManageError:
            if attempt == 2:
                raise
            time.sleep(2)  # workers still starting on a busy machine: once more
    return [f"{prefix}{n}" for n in range(1, count + 1)]


def login(base_url: str, username: str) -> str:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            return json.load(response)["accessToken"]
    except urllib.error.HTTPError as error:
        raise BenchError(f"login of {username}: {error.code} {error.read()[:300]!r}") from None


def require_bench_endpoints(system: manage_all.System, tokens: Path, *, running: bool) -> None:
    """The floor and the hops are routed (MINI_BENCH_ENDPOINTS), or a BenchError saying so."""
    token = tokens.read_text().split("\n", 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    status, body = get_json(f"{system.gateway_url}{HOPS_PATH}", headers)
    if status == 200:
        return
    if status == 404 or (status == 503 and "ping with 404" in body):
        how = (
            "--use-running: the running system has them off; restart it with them on, "
            "e.g. `python3 manage_all.py down && MINI_BENCH_ENDPOINTS=1 python3 manage_all.py up "
            "--detach` (never in production, which refuses them)"
            if running
            else "its own system has them off (was MINI_BENCH_ENDPOINTS=0 passed with --env?)"
        )
        raise BenchError(
            f"the benchmark's endpoints are not routed (GET {HOPS_PATH}: {status}): {how}"
        )
    raise BenchError(f"GET {HOPS_PATH}: {status} {body[:300]}")


def write_tokens(system: manage_all.System, usernames: list[str], path: Path) -> Path:
    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda name: login(system.gateway_url, name), usernames))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{token}\n" for token in tokens))
    return path


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


# --- hanging a service -------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (a gunicorn master and its workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def signal_service(system: manage_all.System, name: str, signum: int) -> list[int]:
    """Send signum to a service's gunicorn master and workers, by pid; the pids."""
    pid = system.pid(name)
    if pid is None:
        raise BenchError(f"mini_{name} is not running")
    pids = process_tree(pid)
    for each in pids:
        try:
            os.kill(each, signum)
        except ProcessLookupError:
            pass
    return pids


def hang(system: manage_all.System, name: str) -> list[int]:
    return signal_service(system, name, signal.SIGSTOP)


def resume(pids: list[int]) -> None:
    for each in pids:
        try:
            os.kill(each, signal.SIGCONT)
        except ProcessLookupError:
            pass


def restart_with(system: manage_all.System, name: str, env: dict[str, str]) -> None:
    """Restart one service with env on top of the system's own (env={} restores it)."""
    saved = dict(system.extra_env)
    system.extra_env.update(env)
    try:
        system.restart_service(name)
    finally:
        system.extra_env = saved


def git_revision() -> str:
    head = REPO_ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (REPO_ROOT / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return ""


def wait(seconds: float) -> None:
    time.sleep(seconds)
