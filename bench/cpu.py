"""Where the CPU goes: CPU time of each component of the system over one load run.

Read from /proc (Linux): utime + stime of every process of a component — a
gunicorn master and its workers, nginx's master and workers — and of the
PostgreSQL backends serving the system's databases. Divided by the requests
wrk completed, it gives milliseconds of CPU per request by component: a
steadier figure than rates on a shared machine, and the one that says what an
order costs compared with the floor.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
POSTGRES = "postgres"


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the fields after it follow its ")".
    return text.rsplit(")", 1)[1].split()


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == parent:
                found.add(int(entry.name))
    return found


def _cpu_seconds(pids: set[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / TICKS_PER_SECOND


def _postgres_backends(database_urls: dict[str, str]) -> set[int]:
    """Backend pids of the system's PostgreSQL databases (none on SQLite)."""
    by_server: dict[str, list[str]] = {}
    for url in database_urls.values():
        if url.startswith(("postgres://", "postgresql://")):
            server, name = url.rsplit("/", 1)
            by_server.setdefault(server, []).append(name)
    pids: set[int] = set()
    if not by_server:
        return pids
    import psycopg2

    for server, names in by_server.items():
        connection = psycopg2.connect(f"{server}/postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (names,))
                pids.update(row[0] for row in cursor.fetchall())
        finally:
            connection.close()
    return pids


class CpuMeter:
    """CPU seconds per component between ``start()`` and ``stop()``."""

    def __init__(self, system) -> None:
        self.system = system
        self.groups: dict[str, set[int]] = {}
        self.before: dict[str, float] = {}

    def _groups(self) -> dict[str, set[int]]:
        groups = {}
        for name in self.system.components:
            pid = self.system.pid(name)
            groups[name] = {pid, *_children(pid)} if pid else set()
        groups[POSTGRES] = _postgres_backends(self.system.database_urls)
        return groups

    def start(self) -> None:
        self.groups = self._groups()
        self.before = {name: _cpu_seconds(pids) for name, pids in self.groups.items()}

    def stop(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by component, with the ``total``."""
        # Backends and workers born during the run count from their start.
        for name, pids in self._groups().items():
            self.groups[name] = self.groups.get(name, set()) | pids
        per_request = {}
        for name, pids in self.groups.items():
            spent = _cpu_seconds(pids) - self.before.get(name, 0.0)
            per_request[name] = round(1000 * max(spent, 0.0) / max(requests, 1), 2)
        per_request["total"] = round(sum(per_request.values()), 2)
        return per_request


def combined(parts: list[tuple[dict[str, float], int]]) -> dict[str, float]:
    """Per-request CPU of several runs (each with its request count) as one."""
    requests = sum(count for _, count in parts) or 1
    return {
        name: round(sum(per_request[name] * count for per_request, count in parts) / requests, 2)
        for name in parts[0][0]
    }


def describe(per_request: dict[str, float]) -> str:
    parts = [f"{name} {ms:.2f}" for name, ms in per_request.items() if name != "total"]
    return f"CPU ms per request: {', '.join(parts)}; total {per_request['total']:.2f}"
