"""`manage_all.py test`: lint, every test suite, and the Postman collection.

Every step runs even after an earlier one failed, so one run shows all
problems; the summary at the end says what passed, failed or was skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import browser, gateway, postgres
from .environment import base_environment
from .layout import (
    GATEWAY,
    REPO_ROOT,
    SERVICES,
    ManageError,
    default_ports,
    default_var_dir,
    service_dir,
    venv_bin,
)
from .system import DEMO_PASSWORD, DEMO_USERNAME, System, free_ports, process_name
from .venv import ensure_venv

PYTEST_NO_TESTS = 5
MINI_COMMON_DIR = REPO_ROOT / "libs" / "mini_common"
CROSS_SERVICE_DIR = REPO_ROOT / "tests"
POSTMAN_DIR = CROSS_SERVICE_DIR / "postman"

# What a step returns: ("passed" | "failed" | "skipped", detail).
Outcome = tuple[str, str]
PASSED: Outcome = ("passed", "")


@dataclass
class StepResult:
    title: str
    status: str
    detail: str
    seconds: float


def redact(url: str) -> str:
    """url without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def choose_postgres(no_postgres: bool) -> str | None:
    """$TEST_POSTGRES_URL or the local default when something answers there."""
    if no_postgres:
        print("database: SQLite (--no-postgres)")
        return None
    url = os.environ.get("TEST_POSTGRES_URL") or postgres.DEFAULT_TEST_URL
    if postgres.reachable(url):
        print(f"database: PostgreSQL at {redact(url)}")
        return url
    print(f"database: SQLite (no PostgreSQL answers at {redact(url)})")
    return None


# --- helpers ----------------------------------------------------------------------------


def _banner(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * max(0, 60 - len(title))}", flush=True)


def _run(command: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> int:
    where = "." if cwd == REPO_ROOT else cwd.relative_to(REPO_ROOT)
    print(f"$ (cd {where}) {' '.join(command)}", flush=True)
    return subprocess.run(list(command), cwd=cwd, env=env, check=False).returncode


def _pytest_outcome(code: int) -> Outcome:
    if code == 0:
        return PASSED
    if code == PYTEST_NO_TESTS:
        return ("failed", "no tests collected")
    return ("failed", f"pytest exit code {code}")


def _has_tests(directory: Path) -> bool:
    """Whether directory holds pytest files (not looking into node_modules and the like)."""
    for _root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != "node_modules" and not d.startswith(".")]
        if any(f.startswith("test_") and f.endswith(".py") for f in files):
            return True
    return False


def _test_env(**overrides: str | None) -> dict[str, str]:
    """Environment of the test runs: no stray per-service settings from the shell."""
    env = base_environment()
    env["MINI_VAR_DIR"] = str(default_var_dir(env) / "test")
    for key in ("DATABASE_URL", "REDIS_URL"):
        env.pop(key, None)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


# --- the steps ----------------------------------------------------------------------------


def ruff(*args: str) -> Outcome:
    code = _run([str(venv_bin("ruff")), *args], cwd=REPO_ROOT)
    return PASSED if code == 0 else ("failed", "")


def mypy() -> Outcome:
    """mypy over tools/ (from the root) and libs/mini_common (its own config: Django's stubs)."""
    codes = [_run([str(venv_bin("mypy"))], cwd=where) for where in (REPO_ROOT, MINI_COMMON_DIR)]
    return PASSED if not any(codes) else ("failed", "")


def gateway_config() -> Outcome:
    """Render the gateway template with default ports and let nginx -t judge it."""
    env = base_environment()
    ports = default_ports()
    gateway.command_for(
        default_var_dir(env) / "test" / "nginx",
        port=ports[GATEWAY],
        upstreams={name: ports[name] for name in SERVICES},
        env=env,
    )
    return PASSED


def mini_common_tests(pytest_args: Sequence[str]) -> Outcome:
    if not _has_tests(MINI_COMMON_DIR):
        return ("skipped", "libs/mini_common has no tests")
    code = _run([str(venv_bin("pytest")), *pytest_args], cwd=MINI_COMMON_DIR, env=_test_env())
    return _pytest_outcome(code)


def manage_all_tests(pytest_args: Sequence[str]) -> Outcome:
    """The operator tool's own tests (audit invariants, System data helpers)."""
    command = [str(venv_bin("pytest")), "-p", "no:cacheprovider", "tools/manage_all/tests"]
    return _pytest_outcome(_run([*command, *pytest_args], cwd=REPO_ROOT, env=_test_env()))


def deploy_tests(pytest_args: Sequence[str]) -> Outcome:
    """compose.yaml, the Kubernetes overlays, the routes vs API.md: no cluster, no Docker."""
    command = [str(venv_bin("pytest")), "-p", "no:cacheprovider", "tests/deploy"]
    env = _test_env(PYTHONPATH=str(REPO_ROOT))
    return _pytest_outcome(_run([*command, *pytest_args], cwd=REPO_ROOT, env=env))


def service_tests(name: str, pg_url: str | None, pytest_args: Sequence[str]) -> Outcome:
    directory = service_dir(name)
    if not (directory / "manage.py").is_file():
        return ("failed", f"{directory.name}/manage.py does not exist")
    if pg_url:
        database_url = postgres.service_database_urls(pg_url, [name])[name]
    else:
        db_dir = default_var_dir(base_environment()) / "test" / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{db_dir}/{process_name(name)}.sqlite3"
    env = _test_env(DATABASE_URL=database_url)
    return _pytest_outcome(_run([str(venv_bin("pytest")), *pytest_args], cwd=directory, env=env))


def cross_service_tests(pg_url: str | None, pytest_args: Sequence[str]) -> Outcome:
    if not _has_tests(CROSS_SERVICE_DIR):
        return ("skipped", "tests/ has no tests yet")
    gateway.ensure_nginx()
    browser.ensure_chromium()  # tests/browser drives it
    # The repository root on sys.path: the tests import manage_all.
    env = _test_env(TEST_POSTGRES_URL=pg_url, PYTHONPATH=str(REPO_ROOT))
    # tests/deploy is a step of its own (no live system needed).
    command = [str(venv_bin("pytest")), "tests", "--ignore=tests/deploy", *pytest_args]
    code = _run(command, cwd=REPO_ROOT, env=env)
    return _pytest_outcome(code)


def bench_smoke(pg_url: str | None) -> Outcome:
    """`manage_all.py bench --smoke`: the whole benchmark path for seconds, no thresholds."""
    gateway.ensure_nginx()
    env = _test_env(PYTHONPATH=str(REPO_ROOT))
    database = ["--postgres", pg_url] if pg_url else ["--sqlite"]
    command = [str(venv_bin("python")), "-m", "bench", "--smoke", *database]
    code = _run(command, cwd=REPO_ROOT, env=env)
    return PASSED if code == 0 else ("failed", f"bench exit code {code}")


def newman(pg_url: str | None) -> Outcome:
    """The Postman collection against a live system of its own."""
    if not (POSTMAN_DIR / "package.json").is_file():
        return ("skipped", "tests/postman/package.json does not exist yet")
    collections = sorted(POSTMAN_DIR.glob("*.postman_collection.json"))
    if not collections:
        return ("failed", "no *.postman_collection.json in tests/postman")
    if _install_node_modules() != 0:
        return ("failed", "npm could not install newman")
    system = _live_system(pg_url)
    print(f"starting a live system in {system.var_dir} (gateway {system.gateway_url})")
    try:
        system.start(fresh_databases=True)
        system.seed_demo()
        code = _run(_newman_command(collections[0], system), cwd=POSTMAN_DIR)
    finally:
        system.stop()
    if code != 0:
        return ("failed", f"logs in {system.log_dir} and {system.nginx_dir}")
    return PASSED


def _install_node_modules() -> int:
    if (POSTMAN_DIR / "node_modules" / ".bin" / "newman").exists():
        return 0
    has_lock = (POSTMAN_DIR / "package-lock.json").is_file()
    return _run(["npm", "ci" if has_lock else "install"], cwd=POSTMAN_DIR)


def _live_system(pg_url: str | None) -> System:
    """Own ports, var dir and (fresh) databases, so a system started by `up` is left alone."""
    var_dir = default_var_dir(base_environment()) / "newman"
    shutil.rmtree(var_dir, ignore_errors=True)
    database_urls = (
        postgres.service_database_urls(pg_url, SERVICES, prefix="newman_mini_") if pg_url else None
    )
    return System(
        var_dir,
        ports=free_ports(),
        database_urls=database_urls,
        redis_url=os.environ.get("TEST_REDIS_URL"),
    )


def _newman_command(collection: Path, system: System) -> list[str]:
    command = ["npx", "--no-install", "newman", "run", collection.name]
    environments = sorted(POSTMAN_DIR.glob("*.postman_environment.json"))
    if environments:
        command += ["-e", environments[0].name]
    for variable in (
        f"baseUrl={system.gateway_url}",
        f"demoUsername={DEMO_USERNAME}",
        f"demoPassword={DEMO_PASSWORD}",
    ):
        command += ["--env-var", variable]
    return command


# --- the run ----------------------------------------------------------------------------


def _timed(title: str, step: Callable[[], Outcome]) -> StepResult:
    _banner(title)
    started = time.monotonic()
    try:
        status, detail = step()
    except ManageError as error:
        print(error)
        status, detail = "failed", str(error).splitlines()[0]
    if status == "skipped":
        print(f"skipped: {detail}")
    return StepResult(title, status, detail, time.monotonic() - started)


def _print_summary(results: Sequence[StepResult]) -> None:
    _banner("summary")
    for result in results:
        detail = f"  ({result.detail})" if result.detail else ""
        print(f"{result.status.upper():<8} {result.title:<30} {result.seconds:6.1f}s{detail}")
    failed = sum(r.status == "failed" for r in results)
    print(f"\n{failed} failed" if failed else "\nall passed", flush=True)


def run_tests(*, no_postgres: bool, pytest_args: Sequence[str]) -> int:
    ensure_venv()
    pg_url = choose_postgres(no_postgres)
    steps: list[tuple[str, Callable[[], Outcome]]] = [
        ("ruff check .", partial(ruff, "check", ".")),
        ("ruff format --check .", partial(ruff, "format", "--check", ".")),
        ("mypy (mini_common, tools)", mypy),
        ("nginx -t (gateway template)", gateway_config),
        ("pytest libs/mini_common", partial(mini_common_tests, pytest_args)),
        ("pytest tools/manage_all", partial(manage_all_tests, pytest_args)),
        ("pytest tests/deploy (manifests)", partial(deploy_tests, pytest_args)),
        *(
            (f"pytest {process_name(name)}", partial(service_tests, name, pg_url, pytest_args))
            for name in SERVICES
        ),
        ("pytest tests (cross-service)", partial(cross_service_tests, pg_url, pytest_args)),
        ("bench --smoke", partial(bench_smoke, pg_url)),
        ("newman (Postman collection)", partial(newman, pg_url)),
    ]
    results = [_timed(title, step) for title, step in steps]
    _print_summary(results)
    return 1 if any(r.status == "failed" for r in results) else 0
