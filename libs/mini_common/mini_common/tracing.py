"""OpenTelemetry tracing of a service, set up in each gunicorn worker after fork.

``setup_tracing("mini_order")`` (gunicorn's ``post_fork`` calls it) installs a
TracerProvider and instruments Django (a SERVER span per request, continuing
the caller's W3C ``traceparent``) and requests (a CLIENT span per attempt of a
call to another service, whose ``traceparent`` it sends).
``RequestContextMiddleware`` wraps a sampled request's SQL statements in spans
(``query_span``, a Django ``execute_wrapper``). With the log filter reading the
active span, log lines carry the very trace and span ids the spans have.

Spans go, in batches from a background thread (never on the request's path):

- over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-specific
  variable) is set — the standard ``OTEL_EXPORTER_OTLP_*`` variables apply;
- otherwise as JSON lines to ``<var>/traces/<service>.jsonl`` (``JsonLinesSpanExporter``),
  which ``manage_all.py trace <id>`` reads and prints as a waterfall.

Sampling: a trace is recorded or not as a whole, decided where it enters the
services (``make_sampler``): ``MINI_TRACE_SAMPLE_RATIO`` of traces (10 % in
production, all of them elsewhere, so that ``manage_all.py trace`` finds any
request in development and tests). An unsampled request still has its trace
and span ids (the log lines carry them, with the request id) but records no
span: the instrumentations make non-recording spans, and the SQL statement
spans (``query_span``) are not even wrapped around its queries.
``OTEL_TRACES_SAMPLER``, when set, replaces this sampler with OpenTelemetry's.

``OTEL_SDK_DISABLED=true`` turns tracing off; the ``OTEL_BSP_*`` batch settings
are honoured. The provider must be created after fork: its batch thread does
not survive one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

logger = logging.getLogger("mini_common.tracing")

# Requests no trace needs: health probes and metric scrapes.
EXCLUDED_URLS = "healthz,readyz,metrics"
# The span file is renamed to <name>.1 (replacing an older one) past this size.
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
# Spans reach the file within this delay (OTel's default is 5 s).
DEFAULT_SCHEDULE_DELAY_MS = 500
# The share of traces production records when MINI_TRACE_SAMPLE_RATIO is unset:
# recording and exporting every trace costs about a fifth of an order's CPU
# (docs/performance.md).
PRODUCTION_SAMPLE_RATIO = 0.1

_provider: TracerProvider | None = None
# mini_common's own tracer, made once: get_tracer() builds a new one per call.
_tracer: trace.Tracer | None = None


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    """One span as the JSON object of a trace file line."""
    context = span.get_span_context()
    assert context is not None  # a span that was recorded always has one
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    resource = span.resource.attributes if span.resource else {}
    return {
        "trace_id": _hex(context.trace_id, 32),
        "span_id": _hex(context.span_id, 16),
        "parent_span_id": _hex(span.parent.span_id, 16) if span.parent else "",
        "service": resource.get("service.name", ""),
        "name": span.name,
        "kind": span.kind.name,
        "start_ns": start,
        "end_ns": end,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
        "status_message": span.status.description or "",
        "attributes": dict(span.attributes or {}),
        "pid": os.getpid(),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends spans as JSON lines to one file, shared by every worker of a service.

    Each batch is one ``write`` to a file opened with O_APPEND, so the lines of
    concurrent workers never interleave. Past ``max_bytes`` the file is
    renamed to ``<path>.1``; every worker notices the new inode and reopens.
    """

    def __init__(self, path: Path | str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._inode: int | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._fd, self._inode = fd, os.fstat(fd).st_ino
        return fd

    def _file(self) -> int:
        """The open file, reopened when another worker rotated it, rotated when too big."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        if self._fd is not None and (current is None or current.st_ino != self._inode):
            self._close()
        elif current is not None and current.st_size > self.max_bytes:
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._close()
        return self._fd if self._fd is not None else self._open()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._inode = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        data = "".join(json.dumps(span_to_dict(s), default=str) + "\n" for s in spans).encode()
        try:
            with self._lock:
                os.write(self._file(), data)
        except OSError:
            logger.exception("cannot write spans to %s", self.path)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        with self._lock:
            self._close()


def traces_dir() -> Path:
    from mini_common.settings import var_dir

    return var_dir() / "traces"


def _otlp_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def make_exporter(service: str) -> SpanExporter:
    if _otlp_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    max_mb = os.environ.get("MINI_TRACE_FILE_MAX_MB")
    max_bytes = int(float(max_mb) * 1024 * 1024) if max_mb else DEFAULT_MAX_FILE_BYTES
    return JsonLinesSpanExporter(traces_dir() / f"{service}.jsonl", max_bytes=max_bytes)


def tracing_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def sample_ratio() -> float:
    """The share of traces recorded: MINI_TRACE_SAMPLE_RATIO, else 0.1 in production, else 1."""
    from mini_common.settings import is_production

    value = os.environ.get("MINI_TRACE_SAMPLE_RATIO", "").strip()
    if not value:
        return PRODUCTION_SAMPLE_RATIO if is_production() else 1.0
    ratio = float(value)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"MINI_TRACE_SAMPLE_RATIO must be between 0 and 1, not {value}")
    return ratio


def make_sampler(ratio: float) -> Sampler:
    """Record ``ratio`` of traces, every service of a trace deciding alike.

    A parent that was not sampled (``traceparent`` flags 00) is followed: the
    downstream services of an unsampled request record nothing. A parent that
    says sampled is not taken at its word, because nginx, which makes every
    trace's first span, decides nothing and says sampled for every request (as
    a client may): the trace is sampled by its id at ``ratio``. That decision is
    a function of the trace id alone, so mini_auth and mini_order, which both
    get the gateway's parent, decide the same, and a service called by a
    sampled mini_order, with the same ratio, records its part too. The ratio
    must therefore be the same in every service (one shared variable).
    """
    by_trace_id = TraceIdRatioBased(ratio)
    return ParentBased(root=by_trace_id, remote_parent_sampled=by_trace_id)


def query_span(execute, sql, params, many, context):
    """One SQL statement as a CLIENT span (a Django ``execute_wrapper``).

    Named by the statement's first word, like OpenTelemetry's database
    instrumentations, with ``db.statement`` (placeholders, never the values);
    Django's vendor names are OpenTelemetry's ``db.system`` values.
    """
    connection = context["connection"]
    statement = str(sql)
    with tracer().start_as_current_span(
        statement.split(None, 1)[0].upper() if statement.strip() else connection.vendor,
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": connection.vendor,
            "db.name": str(connection.settings_dict.get("NAME") or ""),
            "db.statement": statement,
        },
    ):
        return execute(sql, params, many, context)


def _request_hook(span, request) -> None:
    # Kept on the request for log lines written after the span ended (django.request).
    request.mini_span_context = span.get_span_context()


def setup_tracing(service: str, *, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install tracing in this process (once); None when disabled.

    Call it after fork, before the first request. ``exporter`` replaces the
    configured one (tests).
    """
    global _provider, _tracer
    if _provider is not None:
        return _provider
    _tracer = None
    if tracing_disabled():
        return None
    # OTEL_TRACES_SAMPLER: the SDK reads it (and its argument) when no sampler is given.
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else make_sampler(sample_ratio())
    provider = TracerProvider(resource=Resource.create({"service.name": service}), sampler=sampler)
    delay = os.environ.get("OTEL_BSP_SCHEDULE_DELAY") or DEFAULT_SCHEDULE_DELAY_MS
    provider.add_span_processor(
        BatchSpanProcessor(exporter or make_exporter(service), schedule_delay_millis=float(delay))
    )
    trace.set_tracer_provider(provider)
    _instrument(provider)
    _provider = provider
    return provider


def _instrument(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    DjangoInstrumentor().instrument(
        tracer_provider=provider, excluded_urls=EXCLUDED_URLS, request_hook=_request_hook
    )
    RequestsInstrumentor().instrument(tracer_provider=provider)
    # No psycopg2 instrumentation: it would wrap every statement of every
    # request, sampled or not, in a span; query_span wraps only sampled ones.


def shutdown_tracing() -> None:
    """Export what is still queued (a worker about to exit)."""
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
        _provider = None
    _tracer = None


def tracer() -> trace.Tracer:
    global _tracer
    if _tracer is None:
        _tracer = trace.get_tracer("mini_common")
    return _tracer


def current_ids() -> tuple[str, str, str] | None:
    """(trace_id, span_id, flags) of the active span, or None when no span is recording."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return _hex(context.trace_id, 32), _hex(context.span_id, 16), f"{context.trace_flags:02x}"
