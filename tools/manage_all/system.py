"""The whole system on one machine: five gunicorns behind one nginx.

`System` is what both the command line and the cross-service tests use:

    system = System(tmp_path / "var", ports=free_ports())
    system.start()              # databases, migrate, collectstatic, processes, readiness
    ...
    system.stop_service("billing")
    system.start_service("billing")
    system.stop()

What works on a system's data takes one: audit.audit_system(system),
maintenance.reconcile_system(system) and purge_system(system). This module
imports neither (they import it), so the dependencies go one way.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import faultstate, gateway, postgres, procs
from .environment import base_environment, internal_token
from .layout import (
    COMPONENTS,
    GATEWAY,
    LOOPBACK,
    REPO_ROOT,
    SERVICES,
    ManageError,
    component_name,
    default_ports,
    process_name,
    service_dir,
    service_exists,
    venv_bin,
)
from .net import free_port, get_status, is_listening

GUNICORN_CONF = REPO_ROOT / "libs" / "mini_common" / "mini_common" / "gunicorn_conf.py"
DEFAULT_WORKERS = "3"
READY_TIMEOUT = 60.0
# Created by mini_auth's `seed_users --demo`.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"


def free_ports() -> dict[str, int]:
    """A free loopback port for every component, for tests."""
    return {name: free_port() for name in COMPONENTS}


class System:
    """The services and the gateway of one var dir.

    var_dir holds everything at run time: var/run (pid files, system.json),
    var/log, var/db (SQLite), var/nginx. ports maps component names (auth,
    user, billing, order, notif, gateway) to loopback ports; database_urls
    maps service names to DATABASE_URLs (SQLite files under var_dir by
    default); env adds or overrides environment variables of every process.
    """

    def __init__(
        self,
        var_dir: Path | str,
        *,
        ports: Mapping[str, int] | None = None,
        database_urls: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        env: Mapping[str, str] | None = None,
        services: Iterable[str] | None = None,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.ports = {**default_ports(), **(ports or {})}
        self.services = tuple(services) if services is not None else SERVICES
        self.database_urls = {**self._sqlite_urls(), **(database_urls or {})}
        self.redis_url = redis_url or None
        self.extra_env = dict(env or {})
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # --- configuration ------------------------------------------------------

    @property
    def components(self) -> tuple[str, ...]:
        return (*self.services, GATEWAY)

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def nginx_dir(self) -> Path:
        return self.var_dir / "nginx"

    @property
    def config_file(self) -> Path:
        return self.run_dir / "system.json"

    @property
    def gateway_url(self) -> str:
        return self.url(GATEWAY)

    def url(self, name: str) -> str:
        return f"http://{LOOPBACK}:{self.ports[component_name(name)]}"

    def bind_port(self, name: str) -> int:
        """Where the component listens: its own port, or a private one while a
        fault proxy of `manage_all.py chaos` holds its own (see chaos.py)."""
        name = component_name(name)
        return faultstate.service_port(self.run_dir, name, self.ports[name])

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{process_name(name)}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{process_name(name)}.log"

    def error_log(self, name: str) -> Path:
        """Where a component says why it failed (nginx logs to its own file)."""
        return self.nginx_dir / "error.log" if name == GATEWAY else self.log_file(name)

    def log_files(self, name: str) -> list[Path]:
        """Every log of a component (the gateway has nginx's own two too)."""
        files = [self.log_file(name)]
        if name == GATEWAY:
            files += [self.nginx_dir / "error.log", self.nginx_dir / "access.log"]
        return files

    def _sqlite_urls(self) -> dict[str, str]:
        db_dir = self.var_dir / "db"
        return {name: f"sqlite:///{db_dir}/{process_name(name)}.sqlite3" for name in SERVICES}

    def to_json(self) -> dict[str, Any]:
        return {
            "var_dir": str(self.var_dir),
            "ports": self.ports,
            "services": list(self.services),
            "database_urls": self.database_urls,
            "redis_url": self.redis_url,
        }

    def same_setup(self, other: System) -> bool:
        return self.to_json() == other.to_json()

    def save(self) -> None:
        """Write var/run/system.json (owner only: database URLs may hold passwords)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_json(), handle, indent=2)
            handle.write("\n")

    @classmethod
    def load(cls, var_dir: Path | str, env: Mapping[str, str] | None = None) -> System:
        """The system last started in var_dir, or the default one if none was."""
        path = Path(var_dir).resolve() / "run" / "system.json"
        if not path.is_file():
            return cls(var_dir, env=env)
        saved = json.loads(path.read_text())
        return cls(
            var_dir,
            ports=saved["ports"],
            database_urls=saved["database_urls"],
            redis_url=saved.get("redis_url"),
            services=saved.get("services"),
            env=env,
        )

    # --- environment and manage.py -------------------------------------------

    def environment(self, name: str | None = None) -> dict[str, str]:
        """Environment of a service's processes (of the gateway for None)."""
        env = base_environment()
        env.pop("DATABASE_URL", None)  # per service, never one for all
        env.pop("REDIS_URL", None)
        env.setdefault("MINI_ENV", "development")
        env.update(
            {
                "MINI_VAR_DIR": str(self.var_dir),
                "MINI_INTERNAL_TOKEN": internal_token(env),
                "GUNICORN_WORKERS": env.get("GUNICORN_WORKERS") or DEFAULT_WORKERS,
            }
        )
        env.update({f"MINI_{s.upper()}_URL": self.url(s) for s in SERVICES})
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if name in self.database_urls:
            env["DATABASE_URL"] = self.database_urls[name]
        env.update(self.extra_env)
        # GUNICORN_WORKERS_<SERVICE> (e.g. GUNICORN_WORKERS_ORDER) sizes one service.
        if name in SERVICES:
            env["GUNICORN_WORKERS"] = (
                env.get(f"GUNICORN_WORKERS_{name.upper()}") or env["GUNICORN_WORKERS"]
            )
        return env

    def manage(
        self, name: str, *args: str, check: bool = True, capture: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `manage.py args` of one service with its environment."""
        self._require_service(name)
        result = subprocess.run(
            [str(venv_bin("python")), "manage.py", *args],
            cwd=service_dir(name),
            env=self.environment(name),
            capture_output=capture,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            output = f"\n{result.stdout}{result.stderr}".rstrip() if capture else ""
            raise ManageError(f"{process_name(name)}: manage.py {' '.join(args)} failed{output}")
        return result

    def has_command(self, name: str, command: str) -> bool:
        """Whether a service defines a management command (without running Django)."""
        pattern = f"*/management/commands/{command}.py"
        return any(service_dir(name).glob(pattern))

    def _require_service(self, name: str) -> None:
        if name not in SERVICES:
            raise ManageError(f"{name!r} is not a service")
        if not service_exists(name):
            raise ManageError(f"{process_name(name)} does not exist yet (no manage.py)")

    # --- preparing -----------------------------------------------------------

    def prepare(self, *, fresh_databases: bool = False) -> None:
        """Directories, PostgreSQL databases, migrate and collectstatic of every service."""
        for directory in (self.run_dir, self.log_dir, self.var_dir / "db", self.nginx_dir):
            directory.mkdir(parents=True, exist_ok=True)
        urls = {name: self.database_urls[name] for name in self.services}
        postgres.ensure_databases(venv_bin("python"), urls, fresh=fresh_databases)
        # In parallel: each is a separate Django start-up, mostly waiting on imports and I/O.
        with ThreadPoolExecutor(max_workers=len(self.services) or 1) as pool:
            failures = [error for error in pool.map(self._prepare_service, self.services) if error]
        if failures:
            raise ManageError("\n\n".join(failures))

    def _prepare_service(self, name: str) -> str | None:
        for args in (("migrate", "--noinput"), ("collectstatic", "--noinput", "-v", "0")):
            result = self.manage(name, *args, check=False, capture=True)
            if result.returncode != 0:
                output = (result.stdout + result.stderr).strip()
                return f"{process_name(name)}: manage.py {' '.join(args)} failed:\n{output}"
        print(f"{process_name(name)}: migrated, static files collected", flush=True)
        return None

    # --- processes -----------------------------------------------------------

    def _marker(self, name: str) -> str:
        """Text in the command line of the component's main process.

        gunicorn gets `--name mini_<x>`, which is also its process title if
        setproctitle is installed; nginx's title keeps its `-p <prefix>`.
        """
        return str(self.nginx_dir) if name == GATEWAY else process_name(name)

    def pid(self, name: str) -> int | None:
        """pid of the running component, or None."""
        name = component_name(name)
        pid = procs.read_pid(self.pid_file(name))
        if pid is None or not procs.runs_command(pid, self._marker(name)):
            return None
        return pid

    def is_running(self, name: str) -> bool:
        return self.pid(name) is not None

    def _service_command(self, name: str) -> list[str]:
        command = [str(venv_bin("gunicorn")), "--chdir", process_name(name)]
        if GUNICORN_CONF.is_file():
            command += ["-c", "python:mini_common.gunicorn_conf"]
        # No control socket: gunicorn's default path is one per user, shared
        # by all five services (and by every test system).
        return command + [
            "--no-control-socket",
            "--name",
            process_name(name),
            "--bind",
            f"{LOOPBACK}:{self.bind_port(name)}",
            "--workers",
            self.environment(name)["GUNICORN_WORKERS"],
            "config.wsgi:application",
        ]

    def _gateway_command(self) -> list[str]:
        return gateway.command_for(
            self.nginx_dir,
            port=self.ports[GATEWAY],
            upstreams={name: self.ports[name] for name in SERVICES},
            env=self.environment(),
        )

    def start_service(self, name: str) -> int:
        """Start one component (a service or the gateway) unless it runs; its pid."""
        name = component_name(name)
        running = self.pid(name)
        if running:
            return running
        self._clear_stale(name)
        if name != GATEWAY:
            self._require_service(name)
        if is_listening(self.bind_port(name)):
            raise ManageError(
                f"{process_name(name)}: port {self.bind_port(name)} is taken by another process"
            )
        if name == GATEWAY:
            command, cwd = self._gateway_command(), self.nginx_dir
        else:
            command, cwd = self._service_command(name), REPO_ROOT
        log_file = self.log_file(name)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "a") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n")
        proc = procs.spawn(command, cwd=cwd, env=self.environment(name), log_file=log_file)
        self._procs[name] = proc
        procs.write_pid(self.pid_file(name), proc.pid)
        return proc.pid

    def stop_service(self, name: str, timeout: float = procs.STOP_TIMEOUT) -> None:
        """Stop one component: SIGTERM, then SIGKILL after timeout; remove its pid file."""
        name = component_name(name)
        pid = self.pid(name)
        if pid:
            procs.terminate(pid, timeout)
        proc = self._procs.pop(name, None)
        if proc is not None:
            proc.poll()  # let Popen know; terminate() already reaped it
        self._clear_stale(name)

    def _clear_stale(self, name: str) -> None:
        """Remove the pid file of a dead component and whatever it left running."""
        stale = procs.read_pid(self.pid_file(name))
        if stale is not None:
            procs.kill_orphaned_group(stale)
        procs.remove_pid(self.pid_file(name))

    def restart_service(self, name: str, timeout: float = READY_TIMEOUT) -> int:
        self.stop_service(name)
        pid = self.start_service(name)
        self.wait_ready([name], timeout)
        return pid

    def start(
        self, *, prepare: bool = True, fresh_databases: bool = False, timeout: float = READY_TIMEOUT
    ) -> None:
        """Prepare, start every component that is not running, wait until all are ready.

        On failure everything is stopped again before the error propagates.
        """
        self.save()
        try:
            if prepare:
                self.prepare(fresh_databases=fresh_databases)
            for name in self.components:
                self.start_service(name)
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the gateway first (no new requests), then the services, then any fault proxy."""
        for name in reversed(COMPONENTS):
            self.stop_service(name)
        faultstate.remove_all(self.run_dir)

    def __enter__(self) -> System:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- health --------------------------------------------------------------

    def health_url(self, name: str) -> str:
        """The gateway answers /healthz itself; a service is ready when /readyz is 200."""
        name = component_name(name)
        path = "healthz" if name == GATEWAY else "readyz"
        return f"http://{LOOPBACK}:{self.bind_port(name)}/{path}"

    def ready_status(self, name: str) -> int | None:
        return get_status(self.health_url(name))

    def is_ready(self, name: str) -> bool:
        return self.ready_status(name) == 200

    def wait_ready(
        self, names: Iterable[str] | None = None, timeout: float = READY_TIMEOUT
    ) -> None:
        """Wait until every component answers 200; fail early if one exits."""
        pending = [component_name(n) for n in (names or self.components)]
        deadline = time.monotonic() + timeout
        while pending:
            for name in list(pending):
                if self.is_ready(name):
                    pending.remove(name)
                elif not self.is_running(name):
                    log = self.error_log(name)
                    raise ManageError(
                        f"{process_name(name)} is not running; the end of {log}:\n"
                        + procs.tail(log)
                    )
            if pending and time.monotonic() > deadline:
                names_left = ", ".join(process_name(n) for n in pending)
                raise ManageError(f"not ready after {timeout:.0f}s: {names_left}")
            time.sleep(0.25)

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for name in self.components:
            pid = self.pid(name)
            rows.append(
                {
                    "name": process_name(name),
                    "url": self.url(name),
                    "pid": pid,
                    "stale_pid_file": pid is None and self.pid_file(name).exists(),
                    "ready": self.ready_status(name) if pid else None,
                }
            )
        return rows

    # --- data ----------------------------------------------------------------

    def seed(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        """mini_auth's `seed_users` (it registers through the running services)."""
        if not self.has_command("auth", "seed_users"):
            raise ManageError("mini_auth has no seed_users management command yet")
        return self.manage("auth", "seed_users", *args, capture=capture)

    def seed_demo(self) -> None:
        """The demo user (DEMO_USERNAME / DEMO_PASSWORD, balance 1000)."""
        self.seed("--demo")
