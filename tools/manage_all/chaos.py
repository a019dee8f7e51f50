"""`manage_all.py chaos`: faults on demand between a service and its callers.

    python3 manage_all.py chaos billing --down        # callers' connections refused
    python3 manage_all.py chaos billing --hang        # accepted, never answered
    python3 manage_all.py chaos billing --delay 800   # every answer 800 ms late
    python3 manage_all.py chaos billing --errors 0.5 --status 503
    python3 manage_all.py chaos off [billing]

The services find each other at the addresses `up` gives them
(MINI_<SERVICE>_URL: each service's own port), read once when they start. To
reach every caller without restarting them, a fault has to sit at that
address, and the service itself holds it. So the first fault on a service
restarts that one service on a free private port, and a fault proxy process
(faultproxy.py) takes over the service's own port: its callers reach it
only through the proxy, which passes each request on or fails it as the
fault says. Changing the fault is a SIGHUP to the proxy; nothing restarts.
`chaos off` stops the proxy and restarts the service on its own port. Both
restarts are graceful (requests in progress finish); a connection that comes
in the second or so before the new gunicorn listens is refused, which the
callers' retries absorb.

The other designs cost more than they show: callers pointed at a proxy port
from `up` on would put a relay into every call of every system, faults or
not; restarting the callers instead of the service would reset the circuit
breakers a fault is meant to open; signals (SIGSTOP for a hang) can neither
delay answers nor fail a fraction of them.

The gateway reaches the service at the same address, so it goes through the
proxy too, as it would reach a real failing service: with `billing --down`,
`/billing/...` through the gateway fails as well. The failure table in
docs/architecture.md is about the calls between the services.

The faults are files in <var>/run/chaos/ (faultstate.py). `status` lists them
with the circuit breakers that are not closed (from each service's
/metrics); `down` stops the proxies and removes the directory.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import faultstate, procs
from .environment import base_environment
from .faultstate import Fault, FaultState, make_fault
from .layout import (
    COMPONENTS,
    GATEWAY,
    LOOPBACK,
    REPO_ROOT,
    SERVICES,
    ManageError,
    component_name,
    process_name,
)
from .net import free_port
from .system import System

APPLY_TIMEOUT = 15.0
METRICS_TIMEOUT = 2.0
BREAKER_STATES = {0: "closed", 1: "half-open", 2: "open"}  # mini_common/metrics.py
_BREAKER_LINE = re.compile(r'^mini_breaker_state\{[^}]*target="([^"]+)"[^}]*\}\s+(\S+)', re.M)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the command ------------------------------------------------------------------


def run(system: System, args: argparse.Namespace) -> int:
    """`chaos <service> --<fault>` or `chaos off [<service>]`."""
    options = {
        "down": args.down,
        "hang": args.hang,
        "delay": args.delay,
        "errors": args.errors,
        "status": args.status,
    }
    if args.target == "off":
        given = [f"--{key}" for key, value in options.items() if value not in (None, False)]
        if given:
            raise ManageError(f"chaos off removes faults; it takes no {' '.join(given)}")
        names = [service_name(system, args.service)] if args.service else None
        for line in fault_off(system, names):
            print(line, flush=True)
        return 0
    if args.service:
        raise ManageError(
            f"unexpected {args.service!r}: chaos <service> --<fault>, or chaos off [<service>]"
        )
    name = service_name(system, args.target)
    print(fault_on(system, name, make_fault(**options)), flush=True)
    return 0


def service_name(system: System, value: str) -> str:
    """A service of this system by its short or full name; ManageError otherwise."""
    if value.removeprefix("mini_") not in COMPONENTS:
        raise ManageError(f"unknown service {value!r}; chaos takes one of {', '.join(SERVICES)}")
    name = component_name(value)
    if name == GATEWAY:
        raise ManageError(
            "the gateway is not a service: chaos puts a fault between a service and its "
            f"callers ({', '.join(system.services)})"
        )
    if name not in system.services:
        raise ManageError(f"{process_name(name)} is not part of this system")
    return name


# --- on and off -------------------------------------------------------------------


def fault_on(system: System, name: str, fault: Fault) -> str:
    """Put the fault in force on the service; what was done, to print."""
    run_dir, label = system.run_dir, process_name(name)
    state = faultstate.read(run_dir, name)
    pid = faultstate.proxy_pid(run_dir, name)
    if state is not None and pid is not None:
        # Until it reported its first fault, the proxy may not handle SIGHUP yet (it would die).
        wait_applied(system, name, state.generation)
        changed = state.changed(fault)
        faultstate.write(run_dir, changed)
        os.kill(pid, signal.SIGHUP)
        wait_applied(system, name, changed.generation)
        return f"{label}: {fault.describe()} (was {state.fault.describe()})"
    if name in faultstate.services_with_faults(run_dir):  # left by a proxy that died
        _off_one(system, name)
    if not system.is_running(name):
        raise ManageError(
            f"{label} is not running; start it first: python3 manage_all.py start {name}"
        )
    state = FaultState(
        service=name,
        fault=fault,
        listen_port=system.ports[name],
        upstream_port=free_port(),
        generation=1,
        since=time.time(),
    )
    faultstate.write(run_dir, state)
    try:
        system.stop_service(name)
        pid = _spawn_proxy(system, name)
        wait_applied(system, name, state.generation)
        service_pid = system.start_service(name)
        system.wait_ready([name])
    except BaseException:
        _off_one(system, name, restart=True)
        raise
    return (
        f"{label}: {fault.describe()}\n"
        f"  fault proxy (pid {pid}) on {system.url(name)}; {label} restarted behind it "
        f"on http://{LOOPBACK}:{state.upstream_port} (pid {service_pid})"
    )


def fault_off(system: System, names: list[str] | None = None) -> list[str]:
    """Remove the faults on the services (every fault for None); what was done, to print."""
    if names is None:
        names = faultstate.services_with_faults(system.run_dir)
        if not names:
            return ["no fault in force"]
    return [_off_one(system, name) for name in names]


def _off_one(system: System, name: str, *, restart: bool | None = None) -> str:
    """Stop the proxy, delete the fault's files, move the service back to its own port.

    The service is restarted if it runs (behind the proxy), or if restart says so.
    """
    label = process_name(name)
    if name not in faultstate.services_with_faults(system.run_dir):
        return f"{label}: no fault in force"
    running = system.is_running(name) if restart is None else restart
    proxy = faultstate.remove(system.run_dir, name)
    stopped = f" (fault proxy pid {proxy} stopped)" if proxy else ""
    if not running:
        return f"{label}: fault removed{stopped}; {label} is not running"
    system.stop_service(name)
    pid = system.start_service(name)
    system.wait_ready([name])
    return f"{label}: fault removed{stopped}; {label} back on {system.url(name)} (pid {pid})"


def stop_proxies(system: System) -> list[str]:
    """For `down`: stop every fault proxy and delete the fault files; what was done."""
    return [
        f"stopped the fault proxy of {process_name(name)} (pid {pid})"
        for name, pid in faultstate.remove_all(system.run_dir)
        if pid
    ]


def proxy_log(system: System) -> Path:
    return system.log_dir / "chaos.log"


def _spawn_proxy(system: System, name: str) -> int:
    state_file = faultstate.state_file(system.run_dir, name)
    # Its own session (procs.spawn): it outlives this command and keeps a terminal's Ctrl-C away.
    proc = procs.spawn(
        [sys.executable, "-m", "tools.manage_all.faultproxy", str(state_file)],
        cwd=REPO_ROOT,
        env=base_environment(),
        log_file=proxy_log(system),
    )
    procs.write_pid(faultstate.pid_file(system.run_dir, name), proc.pid)
    return proc.pid


def wait_applied(system: System, name: str, generation: int) -> None:
    """Until the proxy reports the fault's generation in force; ManageError if it cannot."""
    label = process_name(name)
    deadline = time.monotonic() + APPLY_TIMEOUT
    while True:
        applied = faultstate.read_applied(system.run_dir, name)
        if applied is not None and applied[0] == generation:
            if applied[1]:
                raise ManageError(f"the fault proxy of {label}: {applied[1]}")
            return
        if faultstate.proxy_pid(system.run_dir, name) is None:
            log = proxy_log(system)
            raise ManageError(
                f"the fault proxy of {label} exited; the end of {log}:\n" + procs.tail(log)
            )
        if time.monotonic() > deadline:
            raise ManageError(
                f"the fault proxy of {label} did not apply the fault in {APPLY_TIMEOUT:.0f}s"
            )
        time.sleep(0.05)


# --- status -----------------------------------------------------------------------


def status_lines(system: System) -> list[str]:
    """The faults in force and the circuit breakers that are not closed, for `status`."""
    lines = []
    names = faultstate.services_with_faults(system.run_dir)
    if not names:
        lines.append("\nfaults: none")
    else:
        lines.append("\nfaults (python3 manage_all.py chaos off removes them):")
    for name in names:
        label = process_name(name)
        state = faultstate.read(system.run_dir, name)
        pid = faultstate.proxy_pid(system.run_dir, name)
        if state is None or pid is None:
            lines.append(
                f"  {label:<13} stale: its fault proxy is not running (chaos off cleans up)"
            )
            continue
        since = time.strftime("%H:%M:%S", time.localtime(state.since))
        lines.append(
            f"  {label:<13} {state.fault.describe()}; since {since}, fault proxy pid {pid}, "
            f"{label} itself on {LOOPBACK}:{state.upstream_port}"
        )
    breakers = breaker_states(system)
    if breakers is None:
        return lines
    not_closed = [row for row in breakers if row[2] != "closed"]
    if not not_closed:
        lines.append("circuit breakers: all closed")
        return lines
    # mini_breaker_state in each service's /metrics: its worst worker (breakers are per
    # worker without Redis); an open one changes at its worker's next call to the target.
    lines.append("circuit breakers not closed (the worst worker of each service):")
    for name, target, reading in not_closed:
        lines.append(f"  {process_name(name) + ' -> ' + target:<24}{reading}")
    return lines


def breaker_states(system: System) -> list[tuple[str, str, str]] | None:
    """(service, target, state) of every breaker the running services report; None if none runs.

    mini_breaker_state is the worst state among a service's live workers
    (each worker has its own breakers without Redis).
    """
    running = [name for name in system.services if system.is_running(name)]
    if not running:
        return None
    found = []
    for name in running:
        text = _metrics(system, name)
        for target, value in _BREAKER_LINE.findall(text):
            try:
                reading = BREAKER_STATES.get(int(float(value)), value)
            except ValueError:
                reading = value
            found.append((name, target, reading))
    return found


def _metrics(system: System, name: str) -> str:
    url = f"http://{LOOPBACK}:{system.bind_port(name)}/metrics"
    try:
        with _OPENER.open(url, timeout=METRICS_TIMEOUT) as response:
            return response.read().decode(errors="replace")
    except (OSError, ValueError, urllib.error.URLError):
        return ""
