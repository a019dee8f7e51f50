"""The faults `manage_all.py chaos` keeps in force: one per service, in <var>/run/chaos/.

For a service under a fault the directory holds three files:

- `<service>.json`: the fault, the service's own port (where its fault proxy
  listens), the private port the service was moved to, and a generation
  number that grows with every change of the fault;
- `<service>.pid`: the fault proxy's pid;
- `<service>.applied`: the generation the proxy has put in force, or why it could not.

system.py reads it to know where a service behind a proxy listens, and stops
the proxies with the system; chaos.py writes it. Standard library only.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from . import procs
from .layout import SERVICES, ManageError

MODES = ("down", "hang", "delay", "errors")
MAX_DELAY_MS = 600_000  # ten minutes: longer than any caller waits
DEFAULT_ERROR_STATUS = 503


@dataclass(frozen=True)
class Fault:
    """What the callers of a service get instead of its answers."""

    mode: str
    delay_ms: int = 0
    rate: float = 0.0
    status: int = DEFAULT_ERROR_STATUS

    def describe(self) -> str:
        if self.mode == "down":
            return "down: connections refused"
        if self.mode == "hang":
            return "hang: connections accepted, never answered"
        if self.mode == "delay":
            return f"delay: every answer {self.delay_ms} ms late"
        return f"errors: {self.rate * 100:g}% of requests answered {self.status}"


def make_fault(
    *,
    down: bool = False,
    hang: bool = False,
    delay: int | None = None,
    errors: float | None = None,
    status: int | None = None,
) -> Fault:
    """The one fault the options name; ManageError says what is wrong with them."""
    chosen = [
        flag
        for flag, on in (
            ("--down", down),
            ("--hang", hang),
            ("--delay", delay is not None),
            ("--errors", errors is not None),
        )
        if on
    ]
    if len(chosen) != 1:
        given = f" (given: {' '.join(chosen)})" if chosen else ""
        raise ManageError(f"name one fault: --down, --hang, --delay MS or --errors RATE{given}")
    if status is not None and errors is None:
        raise ManageError("--status goes with --errors: the status of the failed answers")
    if down:
        return Fault("down")
    if hang:
        return Fault("hang")
    if delay is not None:
        if not 1 <= delay <= MAX_DELAY_MS:
            raise ManageError(f"--delay is in milliseconds, 1 to {MAX_DELAY_MS}; got {delay}")
        return Fault("delay", delay_ms=delay)
    assert errors is not None
    if not 0 < errors <= 1:
        raise ManageError(
            f"--errors is the fraction of requests to fail, above 0 and at most 1 (e.g. 0.5); "
            f"got {errors:g}"
        )
    status = DEFAULT_ERROR_STATUS if status is None else status
    if not 400 <= status <= 599:
        raise ManageError(f"--status is an HTTP error status, 400 to 599; got {status}")
    return Fault("errors", rate=errors, status=status)


@dataclass(frozen=True)
class FaultState:
    """A fault in force on one service, and where its proxy and the service listen."""

    service: str
    fault: Fault
    listen_port: int  # the service's own port: its callers and the gateway come here
    upstream_port: int  # where the service listens while the proxy holds its own port
    generation: int
    since: float  # time.time() of the last change

    def changed(self, fault: Fault) -> FaultState:
        return replace(self, fault=fault, generation=self.generation + 1, since=time.time())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultState:
        return cls(**{**data, "fault": Fault(**data["fault"])})


def fault_dir(run_dir: Path) -> Path:
    return run_dir / "chaos"


def state_file(run_dir: Path, name: str) -> Path:
    return fault_dir(run_dir) / f"{name}.json"


def pid_file(run_dir: Path, name: str) -> Path:
    return fault_dir(run_dir) / f"{name}.pid"


def applied_file(run_dir: Path, name: str) -> Path:
    return fault_dir(run_dir) / f"{name}.applied"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all: the proxy may read the file at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(run_dir: Path, state: FaultState) -> None:
    _write_json(state_file(run_dir, state.service), state.to_json())


def read_path(path: Path) -> FaultState | None:
    data = _read_json(path)
    if data is None:
        return None
    try:
        return FaultState.from_json(data)
    except (TypeError, KeyError):
        return None


def read(run_dir: Path, name: str) -> FaultState | None:
    return read_path(state_file(run_dir, name))


def write_applied(path: Path, generation: int, error: str = "") -> None:
    _write_json(path, {"generation": generation, "error": error})


def read_applied(run_dir: Path, name: str) -> tuple[int, str] | None:
    data = _read_json(applied_file(run_dir, name))
    if data is None:
        return None
    return int(data.get("generation", 0)), str(data.get("error", ""))


def services_with_faults(run_dir: Path) -> list[str]:
    """Every service with a fault file, live or stale, in SERVICES order."""
    try:
        names = {path.name.lstrip(".").split(".")[0] for path in fault_dir(run_dir).iterdir()}
    except OSError:
        return []
    return [name for name in SERVICES if name in names]


def proxy_pid(run_dir: Path, name: str) -> int | None:
    """The pid of the service's running fault proxy, or None.

    The proxy's command line names its state file, which tells it from any
    other process that got the pid later.
    """
    pid = procs.read_pid(pid_file(run_dir, name))
    if pid is None or not procs.runs_command(pid, str(state_file(run_dir, name))):
        return None
    return pid


def service_port(run_dir: Path, name: str, own_port: int) -> int:
    """Where the service listens: its private port while its proxy runs, else its own."""
    if not state_file(run_dir, name).is_file() or proxy_pid(run_dir, name) is None:
        return own_port
    state = read(run_dir, name)
    return state.upstream_port if state else own_port


def remove(run_dir: Path, name: str) -> int | None:
    """Stop the service's fault proxy (by its pid) and delete its files; the pid it had."""
    pid = proxy_pid(run_dir, name)
    if pid is not None:
        procs.terminate(pid, timeout=5.0)
    state = state_file(run_dir, name)
    for path in (pid_file(run_dir, name), applied_file(run_dir, name), state):
        path.unlink(missing_ok=True)
        path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)  # a write cut short
    try:
        fault_dir(run_dir).rmdir()  # only once empty: no file is left behind
    except OSError:
        pass
    return pid


def remove_all(run_dir: Path) -> list[tuple[str, int | None]]:
    """Stop every fault proxy and delete every fault file: (service, pid it had)."""
    return [(name, remove(run_dir, name)) for name in services_with_faults(run_dir)]
