"""Tracing: the span file exporter, log lines / context that carry the active span's ids, and
sampling (decided by the trace id, followed downstream, no statement spans when unsampled)."""

import json
import logging

import pytest
import responses
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mini_common.client import service_client
from mini_common.context import context_from_headers, reset_context, set_context
from mini_common.logs import ContextFilter, JsonFormatter
from mini_common.middleware import RequestContextMiddleware
from mini_common.tracing import (
    PRODUCTION_SAMPLE_RATIO,
    JsonLinesSpanExporter,
    current_ids,
    make_sampler,
    sample_ratio,
    span_to_dict,
)


@pytest.fixture
def spans_file(tmp_path):
    return tmp_path / "traces" / "mini_test.jsonl"


@pytest.fixture
def tracer(spans_file):
    """A tracer of a private provider whose spans go straight to the file exporter."""
    exporter = JsonLinesSpanExporter(spans_file)
    provider = TracerProvider(resource=Resource.create({"service.name": "mini_test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("tests")
    provider.shutdown()


def read_spans(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_exporter_writes_one_json_line_per_span_with_parent_links(tracer, spans_file):
    with tracer.start_as_current_span("POST api/v1/order", kind=trace.SpanKind.SERVER) as root:
        root.set_attribute("mini.request_id", "req-1")
        with tracer.start_as_current_span("billing POST /billing/account/operate"):
            pass
    child, parent = read_spans(spans_file)  # a child ends (and is exported) first
    assert parent["name"] == "POST api/v1/order" and parent["kind"] == "SERVER"
    assert parent["service"] == "mini_test" and parent["parent_span_id"] == ""
    assert parent["attributes"] == {"mini.request_id": "req-1"}
    assert child["trace_id"] == parent["trace_id"] and len(child["trace_id"]) == 32
    assert child["parent_span_id"] == parent["span_id"] and len(child["span_id"]) == 16
    assert parent["start_ns"] <= child["start_ns"] <= child["end_ns"] <= parent["end_ns"]
    elapsed_ms = (parent["end_ns"] - parent["start_ns"]) / 1e6
    assert parent["duration_ms"] == pytest.approx(elapsed_ms, abs=0.001)
    assert parent["status"] == "UNSET"


def test_a_failing_span_is_exported_with_error_status(tracer, spans_file):
    with pytest.raises(ValueError):
        with tracer.start_as_current_span("boom"):
            raise ValueError("no")
    (span,) = read_spans(spans_file)
    assert span["status"] == "ERROR" and "ValueError" in span["status_message"]


def test_exporter_rotates_a_full_file_and_other_writers_follow(tmp_path):
    path = tmp_path / "mini_test.jsonl"
    provider = TracerProvider()
    first, second = JsonLinesSpanExporter(path, max_bytes=1), JsonLinesSpanExporter(path)
    tracer = provider.get_tracer("tests")
    spans = []
    for name in ("a", "b", "c"):
        with tracer.start_as_current_span(name) as span:
            pass
        spans.append(span)
    first.export([spans[0]])
    second.export([spans[1]])  # the same file, through its own descriptor
    first.export([spans[2]])  # past max_bytes: renamed to .1 first, then a new file
    rotated = path.with_name("mini_test.jsonl.1")
    assert [s["name"] for s in read_spans(rotated)] == ["a", "b"]
    assert [s["name"] for s in read_spans(path)] == ["c"]
    second.export([spans[1]])  # notices the new file and writes there
    assert [s["name"] for s in read_spans(path)] == ["c", "b"]
    first.shutdown()
    second.shutdown()


def test_span_to_dict_of_an_unended_span_has_zero_duration():
    span = TracerProvider().get_tracer("tests").start_span("open")
    assert span_to_dict(span)["duration_ms"] == 0
    span.end()


def test_request_context_takes_the_active_span_and_labels_it(tracer):
    with tracer.start_as_current_span("server") as span:
        context = context_from_headers("req-7", None, 5)
        assert span.attributes["mini.request_id"] == "req-7"
    span_context = span.get_span_context()
    assert context.trace_id == format(span_context.trace_id, "032x")
    assert context.span_id == format(span_context.span_id, "016x")


def test_without_a_span_the_context_continues_the_callers_traceparent():
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    context = context_from_headers("req-8", caller, None)
    assert context.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert context.span_id != "00f067aa0ba902b7"
    assert current_ids() is None


def _log_line(message="hello"):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None)
    ContextFilter(service="mini_test").filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_lines_carry_the_active_span_ids_and_the_request_id(tracer):
    with tracer.start_as_current_span("server"):
        token = set_context(context_from_headers("req-9", None, None))
        try:
            with tracer.start_as_current_span("query") as inner:
                line = _log_line()
        finally:
            reset_context(token)
    assert line["request_id"] == "req-9" and line["service"] == "mini_test"
    assert line["trace_id"] == format(inner.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(inner.get_span_context().span_id, "016x")
    for field in ("time", "level", "logger", "message", "username"):
        assert field in line


def test_log_lines_after_the_request_take_the_ids_kept_on_the_request(tracer):
    with tracer.start_as_current_span("server") as span:
        pass

    class Request:
        request_id = "req-10"
        mini_span_context = span.get_span_context()

    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", None, None)
    record.request = Request()
    ContextFilter(service="mini_test").filter(record)
    assert record.request_id == "req-10"
    assert record.trace_id == format(span.get_span_context().trace_id, "032x")


@responses.activate
def test_the_client_sends_the_active_spans_traceparent(tracer, spans_file):
    responses.get("http://billing.test/ping", json={})
    with tracer.start_as_current_span("server"):
        token = set_context(context_from_headers("req-11", None, 10))
        try:
            # The global provider is a no-op in tests: give the client our tracer.
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("mini_common.client.tracer", lambda: tracer)
                service_client("billing").get("/ping")
        finally:
            reset_context(token)
    sent = responses.calls[0].request.headers["traceparent"]
    call = next(s for s in read_spans(spans_file) if s["name"] == "billing GET /ping")
    assert sent.startswith(f"00-{call['trace_id']}-{call['span_id']}-")
    assert call["attributes"]["mini.target"] == "billing"
    assert call["attributes"]["mini.outcome"] == "ok"
    assert call["attributes"]["mini.attempts"] == 1


# --- sampling -----------------------------------------------------------------------

# Trace ids whose lower 64 bits TraceIdRatioBased(0.5) samples, and does not.
LOW_TRACE_ID = "0af7651916cd43dd0000000000000001"
HIGH_TRACE_ID = "0af7651916cd43ddffffffffffffff00"


def sampled_tracer(ratio, spans_file):
    """A private tracer with mini's sampler at ``ratio``, spans to the file."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": "mini_test"}), sampler=make_sampler(ratio)
    )
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(spans_file)))
    return provider.get_tracer("tests")


def serve(tracer, traceparent, work):
    """``work`` in a SERVER span continuing ``traceparent``, as Django's instrumentation does."""
    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    with tracer.start_as_current_span("GET ping", context=parent, kind=trace.SpanKind.SERVER):
        return work()


@pytest.mark.parametrize(
    ("env", "ratio"),
    [
        ({"MINI_ENV": "production"}, PRODUCTION_SAMPLE_RATIO),
        ({"MINI_ENV": "development"}, 1.0),
        ({}, 1.0),
        ({"MINI_ENV": "production", "MINI_TRACE_SAMPLE_RATIO": "1"}, 1.0),
        ({"MINI_TRACE_SAMPLE_RATIO": "0.25"}, 0.25),
    ],
)
def test_the_sample_ratio_is_production_s_share_unless_configured(monkeypatch, env, ratio):
    monkeypatch.delenv("MINI_ENV", raising=False)
    monkeypatch.delenv("MINI_TRACE_SAMPLE_RATIO", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert sample_ratio() == ratio


def test_a_sample_ratio_outside_0_to_1_is_refused(monkeypatch):
    monkeypatch.setenv("MINI_TRACE_SAMPLE_RATIO", "10")
    with pytest.raises(ValueError, match="between 0 and 1"):
        sample_ratio()


def active_span():
    span = trace.get_current_span()
    return span.get_span_context(), span.is_recording()


def test_the_gateway_s_sampled_flag_is_decided_by_the_trace_id(spans_file):
    tracer = sampled_tracer(0.5, spans_file)
    for trace_id, recorded in ((LOW_TRACE_ID, True), (HIGH_TRACE_ID, False)):
        context, recording = serve(tracer, f"00-{trace_id}-00f067aa0ba902b7-01", active_span)
        assert recording is recorded and context.trace_flags.sampled is recorded
        # Recorded or not, the request keeps its trace (log lines carry it).
        assert format(context.trace_id, "032x") == trace_id
    assert [span["trace_id"] for span in read_spans(spans_file)] == [LOW_TRACE_ID]


def test_a_parent_that_was_not_sampled_is_followed(spans_file):
    tracer = sampled_tracer(1.0, spans_file)
    _, recording = serve(tracer, f"00-{LOW_TRACE_ID}-00f067aa0ba902b7-00", active_span)
    assert not recording
    assert not spans_file.exists()


@responses.activate
@pytest.mark.parametrize(("ratio", "flags"), [(1.0, "01"), (0.0, "00")])
def test_downstream_services_are_told_the_decision(spans_file, monkeypatch, ratio, flags):
    responses.get("http://billing.test/ping", json={})
    tracer = sampled_tracer(ratio, spans_file)
    monkeypatch.setattr("mini_common.client.tracer", lambda: tracer)
    serve(
        tracer,
        f"00-{LOW_TRACE_ID}-00f067aa0ba902b7-01",
        lambda: service_client("billing").get("/ping"),
    )
    sent = responses.calls[0].request.headers["traceparent"]
    assert sent.startswith(f"00-{LOW_TRACE_ID}-") and sent.endswith(f"-{flags}")


def _request_with_a_query():
    """RequestContextMiddleware around a view that runs one SQL statement."""

    def view(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return HttpResponse("ok")

    return RequestContextMiddleware(view)(RequestFactory().get("/api/v1/thing"))


@pytest.mark.django_db
def test_a_sampled_request_s_statements_are_spans(spans_file, monkeypatch):
    tracer = sampled_tracer(1.0, spans_file)
    monkeypatch.setattr("mini_common.tracing.tracer", lambda: tracer)
    serve(tracer, f"00-{LOW_TRACE_ID}-00f067aa0ba902b7-01", _request_with_a_query)
    query, server = read_spans(spans_file)
    assert query["name"] == "SELECT" and query["kind"] == "CLIENT"
    assert query["attributes"]["db.statement"] == "SELECT 1"
    assert query["attributes"]["db.system"] in ("postgresql", "sqlite")
    assert query["parent_span_id"] == server["span_id"]


@pytest.mark.django_db
def test_an_unsampled_request_s_statements_are_not_wrapped(spans_file, monkeypatch):
    tracer = sampled_tracer(0.0, spans_file)
    made = []
    monkeypatch.setattr("mini_common.tracing.tracer", lambda: made.append(1) or tracer)
    response = serve(tracer, f"00-{LOW_TRACE_ID}-00f067aa0ba902b7-01", _request_with_a_query)
    assert response.status_code == 200 and response["X-Request-ID"]
    assert made == [] and not spans_file.exists()
