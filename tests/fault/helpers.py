"""What the fault tests share: real faults on real processes, timing, and checks.

Processes are signalled only by pid: a service's gunicorn master is
`system.pid(name)`, its workers are the master's children (from /proc).
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

import manage_all
from tests.support import Api, User

ONE_ITEM = [{"productId": 1, "price": 10, "quantity": 1}]


# --- processes ------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of pid: /proc/<pid>/task/*/children, else every /proc/*/stat's ppid."""
    found: set[int] = set()
    tasks = Path(f"/proc/{pid}/task")
    try:
        for task in tasks.iterdir():
            try:
                found.update(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    except OSError:
        return []
    if found:
        return sorted(found)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:  # fields: state, ppid, ...
            found.add(int(stat.parent.name))
    return sorted(found)


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def master_pid(system, name: str) -> int:
    pid = system.pid(name)
    assert pid, f"mini_{name} is not running"
    return pid


def worker_pids(system, name: str) -> list[int]:
    return children(master_pid(system, name))


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(is_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still alive: {[p for p in pids if is_alive(p)]}"
        time.sleep(0.05)


def kill_service(system, name: str) -> list[int]:
    """SIGKILL a service's master and workers at once (a crash, nothing runs to the end)."""
    master = master_pid(system, name)
    workers = children(master)
    # Stop them all first: the master cannot respawn a worker, no worker gets a step further.
    for pid in (master, *workers):
        _signal(pid, signal.SIGSTOP)
    for pid in (master, *workers):
        _signal(pid, signal.SIGKILL)
    system.is_running(name)  # reaps the master (our child) so that it does not linger as a zombie
    wait_gone([master, *workers])
    return [master, *workers]


@dataclass
class Freezer:
    """SIGSTOPs services (master and workers) and makes sure they are continued again."""

    stopped: set[int] = field(default_factory=set)

    def stop(self, system, name: str) -> list[int]:
        master = master_pid(system, name)
        pids = [master, *children(master)]
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
            self.stopped.add(pid)
        return pids

    def cont(self, pids: list[int] | None = None) -> None:
        for pid in sorted(self.stopped if pids is None else pids):
            _signal(pid, signal.SIGCONT)
            self.stopped.discard(pid)


# --- time -------------------------------------------------------------------------


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2):
    """predicate()'s first truthy value; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {predicate}")
        time.sleep(interval)


# --- talking to the system ------------------------------------------------------------


def new_key() -> str:
    return str(uuid.uuid4())


class DirectOrders:
    """mini_order's own port, with the headers nginx would add: no gateway in the timing."""

    def __init__(self, system) -> None:
        self.url = system.url("order") + "/api/v1/order"
        self.token = system.environment("order")["MINI_INTERNAL_TOKEN"]

    def post(
        self,
        username: str,
        positions=ONE_ITEM,
        key: str | None = None,
        request_id: str | None = None,
    ) -> requests.Response:
        headers = {
            "X-Internal-Token": self.token,
            "X-Username": username,
            "X-Roles": "user",
            "Content-Type": "application/json",
        }
        if key:
            headers["Idempotency-Key"] = key
        if request_id:
            headers["X-Request-ID"] = request_id
        return requests.post(
            self.url, json={"orderPositions": positions}, headers=headers, timeout=15
        )


def clone(user: User) -> User:
    """The same user with a session of its own (one requests.Session per thread)."""
    token = user.api.session.headers["Authorization"].removeprefix("Bearer ")
    return User(user.username, user.password, Api(user.api.base_url, token))


def log_offset(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log_count(path: Path, *texts: str, offset: int = 0) -> int:
    """How many lines of a log, from byte offset on, contain every one of texts."""
    wanted = [text.encode() for text in texts]
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return sum(1 for line in handle if all(text in line for text in wanted))
    except FileNotFoundError:
        return 0


def server_durations(system, name: str, request_ids: list[str], timeout: float = 10.0):
    """Each request's duration as the service measured it (its access log), in seconds."""
    wanted, found = set(request_ids), {}
    deadline = time.monotonic() + timeout
    while True:
        with open(system.log_file(name), "rb") as handle:
            for line in handle:
                if b"mini_common.access" not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                if entry.get("request_id") in wanted:
                    found[entry["request_id"]] = entry["duration_ms"] / 1000
        if len(found) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(found) == len(wanted), f"{len(wanted) - len(found)} requests not in the access log"
    return [found[request_id] for request_id in request_ids]


def order_until_final(
    user: User, positions, key: str, timeout: float = 20.0
) -> tuple[requests.Response, list[int]]:
    """Repeat the same order request (same key) until it answers 201; the statuses seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        response = user.order(positions, key=key)
        seen.append(response.status_code)
        if response.status_code == 201 or time.monotonic() > deadline:
            return response, seen
        assert response.status_code in (503, 409), response.text  # not yet: breaker, in flight
        time.sleep(0.5)


def register_until(gateway: Api, body: dict, timeout: float = 20.0) -> requests.Response:
    """Repeat the same registration until it answers 201 (breakers need a moment to close)."""
    deadline = time.monotonic() + timeout
    while True:
        response = gateway.post("/api/v1/auth/register", body)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def get_order(user: User, order_id: int) -> dict:
    response = user.api.get(f"/api/v1/order/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


def payments(user: User, order_id: int) -> list[dict]:
    """The PAYMENT operations mini_billing has for one order."""
    response = user.api.get("/billing/account/operations", params={"orderId": order_id})
    assert response.status_code == 200, response.text
    return [op for op in response.json()["results"] if op["type"] == "PAYMENT"]


def order_notifications(user: User, order_id: int) -> list[dict]:
    return user.notifications(parentType="ORDER", parentId=order_id)


def mails_about(system, order_id: int, kind: str = "Success") -> int:
    """How many e-mails mini_notif wrote (file backend) about one order."""
    pattern = re.compile(rf"^Subject: \[mini\] {kind}: Order {order_id}$", re.MULTILINE)
    mail_dir = system.var_dir / "mail" / "mini_notif"
    return sum(
        len(pattern.findall(path.read_text(errors="replace")))
        for path in mail_dir.glob("*")
        if path.is_file()
    )


def all_pages(api: Api, path: str, **params) -> list[dict]:
    results, page = [], 1
    while True:
        response = api.get(path, params={**params, "page": page, "pageSize": 100})
        assert response.status_code == 200, response.text
        body = response.json()
        results += body["results"]
        if not body["next"]:
            return results
        page += 1


# --- the cross-service audit --------------------------------------------------------------


def reconcile(system) -> str:
    return manage_all.reconcile_system(system)


def audit(system) -> tuple[bool, str, bool]:
    """(every invariant holds, the report, nothing pending)."""
    ok, report = manage_all.audit_system(system)
    head = report.splitlines()[0] if report else ""
    return ok, report, "pending" not in head


def assert_audit_clean(system, *, reconciled: bool = True) -> str:
    """Reconcile first (unless told not to), then every invariant holds and nothing is pending."""
    summary = reconcile(system) if reconciled else ""
    ok, report, settled = audit(system)
    assert ok, f"audit failed\n{report}\n\nreconcile said:\n{summary}"
    assert settled, f"audit has work pending\n{report}\n\nreconcile said:\n{summary}"
    return report
