"""bench against the lean reference: its RESULT line read, and the targets judged by it."""

import pytest

from bench import lean, run


def test_the_lean_result_line_is_read_as_bench_reports_it():
    output = "wrk noise\nRESULT rps=253.4 p50_ms=61.0 p99_ms=156.2 non2xx=0 errors=1\n"
    assert lean.parse_result(output) == {
        "rate": 253.4,
        "latency_ms": {"p50": 61.0, "p99": 156.2},
        "non2xx": 0,
        "errors": 1,
    }


def test_no_result_line_is_an_error_not_a_zero():
    with pytest.raises(RuntimeError):
        lean.parse_result("wrk: connection refused\n")


def report(orders_per_s: float, p99: float, lean_p99: float) -> dict:
    return {
        "orders": {"rate": orders_per_s, "error_count": 0, "latency_ms": {"p99": p99}},
        "audit": {"ok": True},
        "lean": {"rate": 200.0, "latency_ms": {"p50": 50.0, "p99": lean_p99}},
        "closeness": round(orders_per_s / 200.0, 3),
    }


@pytest.mark.parametrize(
    "orders_per_s, p99, met",
    [
        (100.0, 300.0, {"closeness": True, "p99_vs_lean": True}),
        (99.0, 300.0, {"closeness": False, "p99_vs_lean": True}),
        (150.0, 301.0, {"closeness": True, "p99_vs_lean": False}),
    ],
)
def test_the_targets_are_half_the_lean_rate_and_twice_its_p99(orders_per_s, p99, met):
    verdict = run._verdict(report(orders_per_s, p99, lean_p99=150.0))
    assert verdict == {"errors": True, "audit": True, **met}


def test_without_the_lean_reference_only_errors_and_audit_are_judged():
    without = report(100.0, 300.0, 150.0)
    del without["closeness"]
    without["lean"] = {"skipped": "not asked for (--smoke or --no-lean)"}
    assert run._verdict(without) == {"errors": True, "audit": True}
