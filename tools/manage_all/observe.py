"""Following one request across the system: its merged logs and its trace.

    manage_all.py logs --request <request id>     every service's and the gateway's
                                                  lines of that request, in time order
    manage_all.py trace <request id | trace id>   the trace as an indented waterfall

Every component writes JSON lines: the services through mini_common.logs
(var/log/mini_<x>.log), nginx through its ``gateway_json`` access log
(var/nginx/access.log). Spans are in var/traces/<service>.jsonl
(mini_common.tracing's file exporter); the gateway's span is its access log
line (trace id, span id, end time ``msec`` and ``request_time``).
Standard library only.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .system import System

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
# The fields a human reads first; the rest follows as key=value.
_LEAD_FIELDS = ("time", "service", "level", "message")
_QUIET_FIELDS = {"logger", "request_id", "trace_id", "span_id", "request", "msec", "uri"}
BAR_WIDTH = 32
LABEL_WIDTH = 72
# Spans are exported in batches every half second (mini_common.tracing).
SETTLE_SECONDS = 1.0


# --- reading JSON lines ---------------------------------------------------------------


def json_lines(path: Path, needle: str | re.Pattern[str] = "") -> Iterator[dict[str, Any]]:
    """The JSON objects of a file's lines (others skipped), only lines holding needle
    (a string, or a pattern that finds something in the line)."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for line in handle:
            if isinstance(needle, re.Pattern):
                if not needle.search(line):
                    continue
            elif needle and needle not in line:
                continue
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def entry_time(entry: dict[str, Any]) -> float:
    """Seconds since the epoch of a log line ('msec' of nginx, else its ISO 'time')."""
    if isinstance(entry.get("msec"), int | float):
        return float(entry["msec"])
    value = str(entry.get("time", ""))
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


# --- logs --request ---------------------------------------------------------------------


def log_files(system: System) -> list[Path]:
    """Every component's JSON log: the services' logs and nginx's access log."""
    files = [system.log_file(name) for name in system.services]
    files.append(system.nginx_dir / "access.log")
    return files


def merge_request_logs(files: Iterable[Path], request_id: str) -> list[dict[str, Any]]:
    """The lines of one request from every file, in time order (stable within a file)."""
    found = []
    for index, path in enumerate(files):
        for number, entry in enumerate(json_lines(path, request_id)):
            if entry.get("request_id") == request_id:
                found.append((entry_time(entry), index, number, entry))
    found.sort(key=lambda item: item[:3])
    return [entry for *_, entry in found]


def format_entry(entry: dict[str, Any]) -> str:
    """One log line for people: time, service, level, message, then the other fields."""
    time_text = str(entry.get("time", ""))
    if "T" in time_text:
        time_text = time_text.split("T", 1)[1][:12]
    service = str(entry.get("service", ""))
    level = str(entry.get("level", "")).upper()
    rest = " ".join(
        f"{key}={value}"
        for key, value in entry.items()
        if key not in _LEAD_FIELDS and key not in _QUIET_FIELDS and value not in ("", None)
    )
    return f"{time_text:<12} {service:<13} {level:<7} {entry.get('message', '')}  {rest}".rstrip()


# --- trace ------------------------------------------------------------------------------


def trace_files(var_dir: Path) -> list[Path]:
    directory = var_dir / "traces"
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl")) + sorted(directory.glob("*.jsonl.1"))


def gateway_span(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The gateway's span of one request, from its access log line."""
    if not entry.get("trace_id") or not entry.get("span_id"):
        return None
    end = float(entry.get("msec") or entry_time(entry))
    start = end - float(entry.get("request_time") or 0)
    status = int(entry.get("status") or 0)
    return {
        "trace_id": entry["trace_id"],
        "span_id": entry["span_id"],
        "parent_span_id": entry.get("parent_span_id", ""),
        "service": "gateway",
        "name": f"{entry.get('method', '')} {entry.get('path', '')}".strip(),
        "kind": "SERVER",
        "start_ns": int(start * 1e9),
        "end_ns": int(end * 1e9),
        "duration_ms": round((end - start) * 1000, 3),
        "status": "ERROR" if status >= 500 else "OK",
        "attributes": {
            "http.status_code": status,
            "mini.request_id": entry.get("request_id", ""),
        },
    }


def find_trace_ids(span_files: Sequence[Path], access_log: Path | None, wanted: str) -> list[str]:
    """Trace ids of a trace id or a request id (one request id may name several traces).

    nginx's own request ids are 32 hex digits like trace ids (and name the trace
    the gateway started): such a value is taken as both.
    """
    found: dict[str, None] = {wanted: None} if TRACE_ID.match(wanted) else {}
    if access_log is not None:
        for entry in json_lines(access_log, wanted):
            if entry.get("request_id") == wanted and entry.get("trace_id"):
                found[entry["trace_id"]] = None
    for path in span_files:
        for span in json_lines(path, wanted):
            if span.get("attributes", {}).get("mini.request_id") == wanted:
                found[span["trace_id"]] = None
    return list(found)


def load_trace(span_files: Sequence[Path], access_log: Path | None, trace_id: str) -> list[dict]:
    """Every span of one trace: the services' span files and the gateway's access log."""
    spans = [
        span
        for path in span_files
        for span in json_lines(path, trace_id)
        if span.get("trace_id") == trace_id
    ]
    if access_log is not None:
        for entry in json_lines(access_log, trace_id):
            if entry.get("trace_id") == trace_id:
                span = gateway_span(entry)
                if span is not None:
                    spans.append(span)
    return spans


def _ordered(spans: Sequence[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, span) depth-first, children after their parent by start time."""
    ids = {span["span_id"] for span in spans}
    children: dict[str, list[dict[str, Any]]] = {}
    roots = []
    for span in spans:
        parent = span.get("parent_span_id") or ""
        if parent and parent in ids and parent != span["span_id"]:
            children.setdefault(parent, []).append(span)
        else:
            roots.append(span)
    result: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()

    def visit(span: dict[str, Any], depth: int) -> None:
        if span["span_id"] in seen:
            return
        seen.add(span["span_id"])
        result.append((depth, span))
        for child in sorted(children.get(span["span_id"], []), key=_start):
            visit(child, depth + 1)

    for root in sorted(roots, key=_start):
        visit(root, 0)
    for span in sorted(spans, key=_start):  # parent links that go round in a circle
        visit(span, 0)
    return result


def _start(span: dict[str, Any]) -> int:
    return int(span.get("start_ns") or 0)


def operation(span: dict[str, Any]) -> str:
    """The span's name, with its HTTP status or SQL statement when it has one."""
    attributes = span.get("attributes") or {}
    name = str(span.get("name", ""))
    url = attributes.get("url.full") or attributes.get("http.url")
    if span.get("kind") == "CLIENT" and url and " " not in name:
        name = f"HTTP {name} {urlsplit(str(url)).path}"  # requests' span of one attempt
    status = attributes.get("http.response.status_code") or attributes.get("http.status_code")
    if status:
        return f"{name} → {status}"
    statement = attributes.get("db.statement") or attributes.get("db.query.text")
    if statement:
        text = " ".join(str(statement).split())
        return f"{name}: {text}"
    return name


def render_waterfall(spans: Sequence[dict[str, Any]], *, width: int = BAR_WIDTH) -> str:
    """The trace as an indented waterfall: offset, duration, status, service, operation, bar."""
    if not spans:
        return "no spans"
    begin = min(_start(span) for span in spans)
    end = max(int(span.get("end_ns") or _start(span)) for span in spans)
    total = max(end - begin, 1)
    trace_id = spans[0].get("trace_id", "")
    lines = [
        f"trace {trace_id}: {len(spans)} spans, {total / 1e6:.1f} ms",
        f"{'offset ms':>10} {'duration ms':>12}  {'status':<6} {'service':<13} operation",
    ]
    for depth, span in _ordered(spans):
        offset = (_start(span) - begin) / 1e6
        duration = float(span.get("duration_ms") or 0)
        first = int((_start(span) - begin) / total * width)
        length = max(1, round(duration * 1e6 / total * width))
        bar = " " * min(first, width - 1) + "█" * min(length, width - min(first, width - 1))
        label = "  " * depth + operation(span)
        if len(label) > LABEL_WIDTH:
            label = label[: LABEL_WIDTH - 1] + "…"
        lines.append(
            f"{offset:10.2f} {duration:12.2f}  {str(span.get('status', '')):<6} "
            f"{str(span.get('service', '')):<13} {label:<{LABEL_WIDTH}} |{bar:<{width}}|"
        )
    return "\n".join(lines)


def settled(spans: Sequence[dict[str, Any]], now: float | None = None) -> bool:
    """Whether a trace's spans have had time to be exported (the last ended > 1 s ago)."""
    last = max(int(span.get("end_ns") or 0) for span in spans) / 1e9
    return (now if now is not None else time.time()) - last > SETTLE_SECONDS


def traces_for(system: System, wanted: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(trace id, spans) of every trace a trace id or request id names."""
    span_files = trace_files(system.var_dir)
    access_log = system.nginx_dir / "access.log"
    access = access_log if access_log.exists() else None
    return [
        (trace_id, load_trace(span_files, access, trace_id))
        for trace_id in find_trace_ids(span_files, access, wanted)
    ]
