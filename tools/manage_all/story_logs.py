"""The requests that touched one order, found in the logs, with their lines and traces.

No log line carries an order id as such; what names an order is:

- a line with ``order_id``/``orderId`` equal to it (billing's PAYMENT line,
  mini_order's "resuming order" and reconcile's lines, ...), or with the
  ``notification_id`` of one of its notifications or the ``operation_id`` of
  its payment;
- an access line (a service's or the gateway's) of ``/api/v1/order/<id>``;
- the request that created it: mini_order's access line of
  ``POST /api/v1/order`` by the order's owner that was running when the order
  row was created (``createdAt`` lies between the request's start and end).
  Two POSTs of one user running at that moment would both be listed: each
  request says why it was found.

A request found is then told whole, as `logs --request` and `trace` tell it.
Lines naming the order outside any request (a job's) are events of their own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import observe
from .story_timeline import iso, parse_time

if TYPE_CHECKING:
    from .system import System

ORDER_PATH = "/api/v1/order"
# Slack around a request's logged start and end: its `time` has millisecond
# precision, its duration is measured with another clock.
_SLACK_SECONDS = 0.002
_POLL_SECONDS = 0.25


@dataclass
class OrderMatcher:
    """What names one order in a log line (see the module's docstring)."""

    order_id: int
    username: str = ""
    created: float | None = None  # the order row's createdAt, seconds since the epoch
    notification_ids: set[str] = field(default_factory=set)
    operation_ids: set[str] = field(default_factory=set)

    def pattern(self) -> re.Pattern[str]:
        """A cheap test of a raw line before it is parsed: could it name the order?"""
        digits = str(self.order_id)
        needles = [
            rf'"(?:order_id|orderId)": ?"?{digits}\b',
            rf"{ORDER_PATH}/{digits}\b",
            rf'"path": ?"{ORDER_PATH}"',
        ]
        for key, ids in (
            ("notification_id", self.notification_ids),
            ("operation_id", self.operation_ids),
        ):
            if ids:
                needles.append(rf'"{key}": ?"?(?:{"|".join(map(re.escape, sorted(ids)))})\b')
        return re.compile("|".join(needles))

    def reason(self, entry: dict[str, Any]) -> str | None:
        """Why this log line is about the order; None if it is not."""
        service, message = entry.get("service", ""), entry.get("message", "")
        for key, wanted in (
            ("order_id", {str(self.order_id)}),
            ("orderId", {str(self.order_id)}),
            ("notification_id", self.notification_ids),
            ("operation_id", self.operation_ids),
        ):
            if key in entry and str(entry[key]) in wanted:
                return f'{service} logged "{message}"'
        path = entry.get("path")
        if path == f"{ORDER_PATH}/{self.order_id}":
            return f"{service}: {entry.get('method', '')} {path} → {entry.get('status', '')}"
        if path == ORDER_PATH and self._created_it(entry):
            return (
                f"{service}: POST {ORDER_PATH} by {self.username} was running when the "
                f"order row was created ({iso(self.created or 0)})"
            )
        return None

    def _created_it(self, entry: dict[str, Any]) -> bool:
        if self.created is None or not self.username:
            return False
        if (entry.get("service"), entry.get("logger"), entry.get("method")) != (
            "mini_order",
            "mini_common.access",
            "POST",
        ):
            return False
        if entry.get("username") != self.username:
            return False
        end = observe.entry_time(entry)
        start = end - float(entry.get("duration_ms") or 0) / 1000
        return start - _SLACK_SECONDS <= self.created <= end + _SLACK_SECONDS


def matcher_for(order_id: int, docs: dict[str, dict[str, Any]]) -> OrderMatcher:
    """The matcher of an order from the services' documents (story.py)."""
    order = docs["order"].get("order") or {}
    created = order.get("createdAt")
    return OrderMatcher(
        order_id=order_id,
        username=str(order.get("username") or ""),
        created=parse_time(created) if created else None,
        notification_ids={str(row["id"]) for row in docs["notif"].get("notifications", [])},
        operation_ids={str(row["id"]) for row in docs["billing"].get("payments", [])},
    )


def mentions(
    files: Iterable[Path], matcher: OrderMatcher
) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """(request id → why it is the order's, lines naming the order outside any request)."""
    pattern = matcher.pattern()
    requests: dict[str, list[str]] = {}
    loose: list[dict[str, Any]] = []
    for path in files:
        for entry in observe.json_lines(path, pattern):
            why = matcher.reason(entry)
            if why is None:
                continue
            request_id = str(entry.get("request_id") or "")
            if not request_id:
                loose.append(entry)
            elif why not in requests.setdefault(request_id, []):
                requests[request_id].append(why)
    loose.sort(key=observe.entry_time)
    return requests, loose


def request_start(lines: list[dict[str, Any]]) -> float:
    """When a request began: the earliest of its lines' times less their durations."""
    return min(
        observe.entry_time(line) - float(line.get("duration_ms") or 0) / 1000 for line in lines
    )


def request_summary(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Method, path, status and user of a request, from the gateway's line or the first access."""
    accesses = [line for line in lines if line.get("service") == "gateway"] or [
        line for line in lines if line.get("logger") == "mini_common.access"
    ]
    if not accesses:
        return {}
    first = accesses[0]
    return {key: first.get(key) for key in ("service", "method", "path", "status", "username")}


def settled_traces(
    system: System, request_ids: list[str], *, wait: float
) -> dict[str, list[tuple[str, list[dict[str, Any]]]]]:
    """Each request's traces, waiting up to ``wait`` s for spans still being exported."""
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        found = {
            request_id: [
                (tid, spans) for tid, spans in observe.traces_for(system, request_id) if spans
            ]
            for request_id in request_ids
        }
        done = all(
            traces and all(observe.settled(spans) for _, spans in traces)
            for traces in found.values()
        )
        if done or time.monotonic() >= deadline:
            return found
        time.sleep(_POLL_SECONDS)


def order_requests(
    system: System, order_id: int, docs: dict[str, dict[str, Any]], *, wait: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the requests that touched the order, told whole; lines naming it outside requests)."""
    files = observe.log_files(system)
    reasons, loose = mentions(files, matcher_for(order_id, docs))
    traces = settled_traces(system, list(reasons), wait=wait)
    requests = []
    for request_id, why in reasons.items():
        lines = observe.merge_request_logs(files, request_id)
        requests.append(
            {
                "requestId": request_id,
                "start": iso(request_start(lines)),
                "foundBy": why,
                **request_summary(lines),
                "logs": lines,
                "traces": [
                    {"traceId": trace_id, "spans": spans} for trace_id, spans in traces[request_id]
                ],
            }
        )
    requests.sort(key=lambda request: request["start"])
    return requests, loose
