"""bench's arithmetic: the floor's two halves counted as one run."""

from bench import cpu, wrk


def load(requests, seconds, p99, errors=None):
    return wrk.LoadResult(
        mode="ping",
        seconds=seconds,
        concurrency=16,
        requests=requests,
        rate=round(requests / seconds, 1),
        errors=errors or {},
        latency_ms={"p50": p99 / 2, "p99": p99},
    )


def test_halves_combine_into_their_requests_over_their_time():
    floor = wrk.combined([load(1500, 1.0, 20.0, {"status_5xx": 1}), load(500, 1.0, 40.0)])
    assert (floor.requests, floor.seconds, floor.rate) == (2000, 2.0, 1000.0)
    assert floor.latency_ms == {"p50": 20.0, "p99": 40.0}  # the worse half's
    assert floor.error_count == 1


def test_cpu_per_request_is_weighted_by_each_half_s_requests():
    per_request = cpu.combined(
        [({"order": 1.0, "total": 1.2}, 3000), ({"order": 2.0, "total": 2.4}, 1000)]
    )
    assert per_request == {"order": 1.25, "total": 1.5}
