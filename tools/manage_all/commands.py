"""What each manage_all command does (the parser is in cli.py)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import chaos, gateway, maintenance, observe, postgres, procs
from .audit import audit_system
from .environment import base_environment
from .layout import (
    COMPONENTS,
    REPO_ROOT,
    SERVICES,
    ManageError,
    component_name,
    default_ports,
    default_var_dir,
    service_exists,
)
from .system import DEMO_PASSWORD, DEMO_USERNAME, System, process_name
from .venv import ensure_venv


def current_system() -> System:
    """The system of this checkout's var dir, as `up` last configured it."""
    return System.load(default_var_dir(base_environment()))


def existing_services() -> list[str]:
    return [name for name in SERVICES if service_exists(name)]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# --- up / down / status ---------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    ensure_venv()
    gateway.ensure_nginx()
    system = _system_for_up(args)
    # SIGTERM takes the same way out as Ctrl-C: everything started is stopped.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    system.start()  # stops what it started if it fails or is interrupted
    try:
        _print_summary(system, seeded=_seed_demo(system))
        if args.detach:
            return 0
        print("running in the foreground; Ctrl-C stops everything", flush=True)
        _report_exits(system)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        print("\nstopping", flush=True)
        _stop_all(system)
    return 0 if not args.detach else 130


def _system_for_up(args: argparse.Namespace) -> System:
    env = base_environment()
    services = existing_services()
    if not services:
        raise ManageError("no service exists yet (no mini_*/manage.py)")
    for name in SERVICES:
        if name not in services:
            print(f"warning: {process_name(name)} does not exist yet; skipped", flush=True)
    database_urls = None
    if args.postgres:
        prefix = postgres.instance_prefix(args.base_port, args.db_prefix)
        database_urls = postgres.service_database_urls(args.postgres, SERVICES, prefix=prefix)
    elif args.db_prefix is not None:
        raise ManageError("--db-prefix names PostgreSQL databases: use it with --postgres")
    system = System(
        default_var_dir(env),
        ports=default_ports(args.base_port),
        database_urls=database_urls,
        redis_url=args.redis or env.get("REDIS_URL"),
        services=services,
    )
    running = current_system()
    if any(running.pid(name) for name in COMPONENTS) and not running.same_setup(system):
        raise ManageError(
            "the system already runs with another configuration "
            f"(see {running.config_file}); run `python3 manage_all.py down` first"
        )
    return system


def _seed_demo(system: System) -> bool:
    """Create the demo user; a failure is reported, the system stays up.

    Never in production: a well-known password with money on its account.
    """
    if base_environment().get("MINI_ENV") == "production":
        print("production: no demo user", flush=True)
        return False
    if not system.has_command("auth", "seed_users"):
        print("warning: mini_auth has no seed_users command yet; no demo user", flush=True)
        return False
    try:
        system.seed_demo()
    except ManageError as error:
        print(f"warning: no demo user: {error}", flush=True)
        return False
    return True


def _print_summary(system: System, seeded: bool) -> None:
    base = system.gateway_url
    print(f"\nmini is up (var dir {system.var_dir})\n")
    print(f"  gateway      {base}/   (health: {base}/healthz)\n")
    print(f"  {'service':<13}{'direct':<24}{'admin':<39}API docs")
    for name in system.services:
        admin, docs = f"{base}/admin/{name}/", f"{base}/docs/{name}/"
        print(f"  {process_name(name):<13}{system.url(name):<24}{admin:<39}{docs}")
    databases = postgres.database_names(system.database_urls)
    if databases:
        names = ", ".join(databases[name] for name in system.services if name in databases)
        print(f"\n  databases    {names}")
    print(f"\n  logs         {system.log_dir}/ and {system.nginx_dir}/")
    if seeded:
        print(f"  demo user    {DEMO_USERNAME} / {DEMO_PASSWORD} (balance 1000)")
    print("  stop with    python3 manage_all.py down\n", flush=True)


def _report_exits(system: System) -> None:
    """Until interrupted, say when a component stops running (and when it is back)."""
    gone: set[str] = set()
    while True:
        time.sleep(1)
        for name in system.components:
            if system.is_running(name):
                gone.discard(name)
            elif name not in gone:
                gone.add(name)
                log = system.error_log(name)
                print(f"warning: {process_name(name)} is not running; see {log}", flush=True)


def _stop_all(system: System) -> None:
    for name in reversed(COMPONENTS):
        pid = system.pid(name)
        system.stop_service(name)
        if pid:
            print(f"stopped {process_name(name)} (pid {pid})", flush=True)
    for line in chaos.stop_proxies(system):
        print(line, flush=True)


def cmd_down(args: argparse.Namespace) -> int:
    _stop_all(current_system())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    system = current_system()
    print(f"{'component':<14}{'url':<24}{'pid':<9}{'state':<10}ready")
    for row in system.status():
        if row["pid"]:
            state, ready = "running", row["ready"] or "no answer"
        else:
            state, ready = ("stale pid" if row["stale_pid_file"] else "stopped"), "-"
        print(f"{row['name']:<14}{row['url']:<24}{row['pid'] or '-'!s:<9}{state:<10}{ready}")
    for line in chaos.status_lines(system):
        print(line)
    return 0


def cmd_chaos(args: argparse.Namespace) -> int:
    return chaos.run(current_system(), args)


# --- single components ------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    system = current_system()
    name = component_name(args.component)
    pid = system.start_service(name)
    system.wait_ready([name])
    print(f"{process_name(name)} running (pid {pid})")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    system = current_system()
    name = component_name(args.component)
    pid = system.pid(name)
    system.stop_service(name)
    print(
        f"stopped {process_name(name)} (pid {pid})"
        if pid
        else f"{process_name(name)} was not running"
    )
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    system = current_system()
    name = component_name(args.component)
    pid = system.restart_service(name)
    print(f"{process_name(name)} restarted (pid {pid})")
    return 0


# --- logs -------------------------------------------------------------------------


def cmd_logs(args: argparse.Namespace) -> int:
    system = current_system()
    if args.request:
        return _request_logs(system, args)
    names = [component_name(args.component)] if args.component else list(COMPONENTS)
    files = [path for name in names for path in system.log_files(name)]
    for path in files:
        if path.exists():
            print(f"==> {path} <==")
            print(procs.tail(path, args.lines))
    if args.follow:
        _follow(files)
    return 0


def _request_logs(system: System, args: argparse.Namespace) -> int:
    entries = observe.merge_request_logs(observe.log_files(system), args.request)
    if args.component:
        name = process_name(component_name(args.component))
        entries = [entry for entry in entries if entry.get("service") == name]
    if not entries:
        print(f"no log line has request_id {args.request}", file=sys.stderr)
        return 1
    for entry in entries:
        print(json.dumps(entry) if args.json else observe.format_entry(entry))
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """The trace(s) of a request id or trace id, as waterfalls."""
    system = current_system()
    deadline = time.monotonic() + max(0.0, args.wait)
    while True:  # spans reach the files in batches, within about half a second
        traces = [(tid, spans) for tid, spans in observe.traces_for(system, args.id) if spans]
        settled = traces and all(observe.settled(spans) for _, spans in traces)
        if settled or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if not traces:
        print(f"no span of {args.id} in {system.var_dir / 'traces'}", file=sys.stderr)
        return 1
    for number, (_trace_id, spans) in enumerate(traces):
        if args.json:
            for span in spans:
                print(json.dumps(span))
            continue
        print(("\n" if number else "") + observe.render_waterfall(spans))
    return 0


def _follow(files: list[Path]) -> None:
    """tail -f for several files, polling (files may appear or be truncated later)."""
    offsets = {path: path.stat().st_size if path.exists() else 0 for path in files}
    current: Path | None = None
    try:
        while True:
            for path in files:
                if not path.exists():
                    continue
                size = path.stat().st_size
                if size < offsets[path]:
                    offsets[path] = 0
                if size == offsets[path]:
                    continue
                with open(path, "rb") as handle:
                    handle.seek(offsets[path])
                    chunk = handle.read()
                offsets[path] += len(chunk)
                if current != path and len(files) > 1:
                    print(f"\n==> {path} <==")
                current = path
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


# --- manage.py across services ------------------------------------------------------


def _services_for(args: argparse.Namespace, system: System) -> list[str]:
    if getattr(args, "service", None):
        name = component_name(args.service)
        if name not in SERVICES:
            raise ManageError(f"{name} has no manage.py; --service takes {', '.join(SERVICES)}")
        return [name]
    return [name for name in system.services if service_exists(name)]


def _manage_each(args: argparse.Namespace, *manage_args: str) -> int:
    """`manage.py manage_args` in every service (or --service), all even after a failure."""
    system = current_system()
    failed = []
    for name in _services_for(args, system):
        print(f"\n=== {process_name(name)} ===", flush=True)
        if system.manage(name, *manage_args, check=False).returncode != 0:
            failed.append(process_name(name))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    python = ensure_venv()
    system = current_system()
    names = _services_for(args, system)
    postgres.ensure_databases(python, {n: system.database_urls[n] for n in names})
    return _manage_each(args, "migrate", "--noinput")


def cmd_check(args: argparse.Namespace) -> int:
    ensure_venv()
    return _manage_each(args, "check")


def cmd_run(args: argparse.Namespace) -> int:
    if not args.manage_args:
        raise ManageError("nothing to run: manage_all.py run [--service x] <manage.py args>")
    ensure_venv()
    return _manage_each(args, *args.manage_args)


def cmd_createsuperuser(args: argparse.Namespace) -> int:
    ensure_venv()
    env = base_environment()
    # Django's createsuperuser reads DJANGO_SUPERUSER_* itself with --noinput.
    unattended = env.get("DJANGO_SUPERUSER_USERNAME") and env.get("DJANGO_SUPERUSER_PASSWORD")
    return _manage_each(args, "createsuperuser", *(["--noinput"] if unattended else []))


def cmd_seed(args: argparse.Namespace) -> int:
    ensure_venv()
    system = current_system()
    not_ready = [process_name(n) for n in system.services if not system.is_ready(n)]
    if not_ready:
        raise ManageError(
            "seed registers users through the running services, and these are not ready: "
            f"{', '.join(not_ready)}.\nStart them first: python3 manage_all.py up --detach"
        )
    seed_args = ["--users", str(args.users), "--balance", args.balance]
    if args.prefix:
        seed_args += ["--prefix", args.prefix]
    system.seed(*seed_args)
    return 0


# --- the data across services ------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    ensure_venv()
    ok, report = audit_system(current_system(), limit=args.limit)
    print(report)
    return 0 if ok else 1


def cmd_story(args: argparse.Namespace) -> int:
    """One order's or one user's story from every service (story.py)."""
    from . import story, story_text  # only `story` needs them

    ensure_venv()
    system = current_system()
    if args.kind == "order":
        told = story.order_story(system, args.id, wait=args.wait)
        text = story_text.render_order(told, var_dir=str(system.var_dir))
    else:
        told = story.user_story(system, args.username, limit=args.limit)
        text = story_text.render_user(told)
    print(json.dumps(told, indent=2) if args.json else text)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    ensure_venv()
    system = current_system()
    # The jobs call the other services over HTTP; with one down they report and leave work.
    down = [process_name(n) for n in system.services if not system.is_ready(n)]
    if down:
        print(f"warning: not ready: {', '.join(down)}; what needs them stays pending", flush=True)
    return _run_jobs(system, maintenance.reconcile_jobs(system))


def cmd_purge(args: argparse.Namespace) -> int:
    ensure_venv()
    system = current_system()
    return _run_jobs(system, maintenance.purge_jobs(system))


def _run_jobs(system: System, jobs: list[maintenance.Job]) -> int:
    results = maintenance.run_jobs(system, jobs, echo=lambda text: print(text, flush=True))
    failed = [process_name(result.service) for result in results if not result.ok]
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """`python -m bench` in the venv (the benchmark needs psycopg2 and wrk, not only stdlib)."""
    python = ensure_venv()
    gateway.ensure_nginx()
    env = base_environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [str(python), "-m", "bench", *args.bench_args]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode


def cmd_test(args: argparse.Namespace) -> int:
    from .testrun import run_tests  # only `test` needs it

    return run_tests(no_postgres=args.no_postgres, pytest_args=args.pytest_args)
