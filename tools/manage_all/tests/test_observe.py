"""logs --request (merging) and trace (finding spans, the waterfall) on files written here."""

import json

from tools.manage_all import observe

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = 1_700_000_000.0  # seconds


def write_lines(path, entries, junk=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(entry) for entry in entries]
    if junk:  # what else is in a log: gunicorn's banner, tracebacks, half lines
        lines = ["=== 2024-01-01 started", *lines, "Traceback (most recent call last):", "{bad"]
    path.write_text("\n".join(lines) + "\n")


def span(span_id, parent, service, name, start_ms, duration_ms, **attributes):
    start = int((T0 + start_ms / 1000) * 1e9)
    return {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "service": service,
        "name": name,
        "kind": "SERVER",
        "start_ns": start,
        "end_ns": start + int(duration_ms * 1e6),
        "duration_ms": duration_ms,
        "status": "UNSET",
        "attributes": attributes,
    }


def gateway_line(request_id="rid-1", **extra):
    return {
        "time": "2023-11-14T22:13:20.100+00:00",
        "service": "gateway",
        "level": "info",
        "message": "POST /api/v1/order 201",
        "request_id": request_id,
        "trace_id": TRACE,
        "span_id": "00000000000000aa",
        "parent_span_id": "",
        "method": "POST",
        "path": "/api/v1/order",
        "status": 201,
        "msec": T0 + 0.100,
        "request_time": 0.100,
        **extra,
    }


def test_merge_keeps_one_requests_lines_in_time_order(tmp_path):
    order, billing, access = tmp_path / "order.log", tmp_path / "billing.log", tmp_path / "a.log"
    write_lines(
        order,
        [
            {"time": "2023-11-14T22:13:20.010Z", "request_id": "rid-1", "message": "o1"},
            {"time": "2023-11-14T22:13:20.090Z", "request_id": "rid-1", "message": "o3"},
            {"time": "2023-11-14T22:13:20.050Z", "request_id": "rid-2", "message": "other"},
        ],
    )
    write_lines(
        billing,
        [
            {"time": "2023-11-14T22:13:20.040Z", "request_id": "rid-1", "message": "b2"},
            {"time": "2023-11-14T22:13:20.040Z", "request_id": "rid-1x", "message": "prefix"},
        ],
    )
    write_lines(access, [gateway_line()], junk=False)
    merged = observe.merge_request_logs([order, billing, access, tmp_path / "none.log"], "rid-1")
    assert [e["message"] for e in merged] == ["o1", "b2", "o3", "POST /api/v1/order 201"]


def test_entry_time_reads_iso_and_nginx_msec():
    assert observe.entry_time({"time": "1970-01-01T00:00:01.500Z"}) == 1.5
    assert observe.entry_time({"time": "1970-01-01T00:00:02.250+00:00"}) == 2.25
    assert observe.entry_time({"msec": 3.5, "time": "ignored"}) == 3.5
    assert observe.entry_time({"time": "garbage"}) == 0.0


def test_format_entry_leads_with_time_service_level_message():
    line = observe.format_entry(
        {
            "time": "2023-11-14T22:13:20.010Z",
            "service": "mini_order",
            "level": "info",
            "message": "call billing",
            "target": "billing",
            "attempt": 1,
            "request_id": "rid-1",
            "username": "",
        }
    )
    assert line.startswith("22:13:20.010 mini_order    INFO    call billing")
    assert "target=billing attempt=1" in line and "request_id" not in line


def test_gateway_span_from_an_access_line():
    result = observe.gateway_span(gateway_line(parent_span_id="00f067aa0ba902b7"))
    assert result["service"] == "gateway" and result["name"] == "POST /api/v1/order"
    assert result["parent_span_id"] == "00f067aa0ba902b7"
    assert result["end_ns"] - result["start_ns"] == 100_000_000
    assert observe.gateway_span({"status": 400}) is None  # a line nginx could not parse


def make_trace_files(tmp_path):
    traces = tmp_path / "traces"
    write_lines(
        traces / "mini_order.jsonl",
        [
            span(
                "00000000000000b1",
                "00000000000000aa",
                "mini_order",
                "POST api/v1/order",
                5,
                90,
                **{"mini.request_id": "rid-1", "http.status_code": 201},
            ),
            span(
                "00000000000000b3",
                "00000000000000b1",
                "mini_order",
                "INSERT",
                8,
                1,
                **{"db.statement": "INSERT INTO orders_order VALUES (1)"},
            ),
            span("00000000000000b2", "00000000000000b1", "mini_order", "billing POST", 10, 30),
            {
                **span("00000000000000ff", "", "mini_order", "other trace", 0, 1),
                "trace_id": "f" * 32,
            },
        ],
    )
    write_lines(
        traces / "mini_billing.jsonl",
        [span("00000000000000c1", "00000000000000b2", "mini_billing", "POST operate", 12, 25)],
    )
    access = tmp_path / "nginx" / "access.log"
    write_lines(access, [gateway_line()], junk=False)
    return observe.trace_files(tmp_path), access


def test_find_trace_ids_by_request_id_or_trace_id(tmp_path):
    files, access = make_trace_files(tmp_path)
    assert observe.find_trace_ids(files, access, "rid-1") == [TRACE]
    assert observe.find_trace_ids(files, None, "rid-1") == [TRACE]  # from the span attribute
    assert observe.find_trace_ids(files, access, TRACE) == [TRACE]
    assert observe.find_trace_ids(files, access, "rid-unknown") == []


def test_load_trace_and_render_the_waterfall(tmp_path):
    files, access = make_trace_files(tmp_path)
    spans = observe.load_trace(files, access, TRACE)
    assert len(spans) == 5  # four services' spans of this trace and the gateway's
    text = observe.render_waterfall(spans)
    lines = text.splitlines()
    assert lines[0] == f"trace {TRACE}: 5 spans, 100.0 ms"
    rows = lines[2:]
    # Depth-first: gateway > order > (INSERT, billing call > billing server), by start time.
    label_column = lines[1].index("operation")
    assert [row[label_column:].split("|")[0].rstrip() for row in rows] == [
        "POST /api/v1/order → 201",
        "  POST api/v1/order → 201",
        "    INSERT: INSERT INTO orders_order VALUES (1)",
        "    billing POST",
        "      POST operate",
    ]
    offsets = [float(row.split()[0]) for row in rows]
    durations = [float(row.split()[1]) for row in rows]
    assert offsets == [0.0, 5.0, 8.0, 10.0, 12.0]
    assert durations == [100.0, 90.0, 1.0, 30.0, 25.0]
    assert rows[0].split()[3] == "gateway" and rows[4].split()[3] == "mini_billing"
    bar = rows[0].split("|")[1]
    assert bar == "█" * observe.BAR_WIDTH


def test_operation_names_requests_spans_by_their_path():
    attempt = {
        **span("00000000000000a1", "", "mini_order", "POST", 0, 1),
        "kind": "CLIENT",
        "attributes": {
            "http.url": "http://127.0.0.1:8003/billing/account/operate",
            "http.status_code": 200,
        },
    }
    assert observe.operation(attempt) == "HTTP POST /billing/account/operate → 200"


def test_orphans_are_roots_and_cycles_do_not_loop():
    spans = [
        span("00000000000000a1", "0000000000000999", "mini_user", "orphan", 0, 1),
        span("00000000000000a2", "00000000000000a3", "mini_user", "x", 1, 1),
        span("00000000000000a3", "00000000000000a2", "mini_user", "y", 2, 1),
    ]
    assert len(observe.render_waterfall(spans).splitlines()) == 2 + 3  # none is lost
    assert observe.render_waterfall([]) == "no spans"


def test_settled_waits_for_the_export_delay():
    spans = [span("00000000000000a1", "", "mini_user", "x", 0, 10)]
    end = spans[0]["end_ns"] / 1e9
    assert not observe.settled(spans, now=end + 0.5)
    assert observe.settled(spans, now=end + 1.5)
