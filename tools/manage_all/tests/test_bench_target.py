"""bench's own system has the benchmark's endpoints on; a running one without them is refused."""

import pytest

from bench import target
from bench.wrk import BenchError


class Running:
    gateway_url = "http://gateway.test"


@pytest.fixture
def answer(monkeypatch, tmp_path):
    """Answer bench's probe (GET ping/hops) with a status and body; the tokens file."""
    seen = []

    def set_answer(status: int, body: str = "{}"):
        def get_json(url, headers=None):
            seen.append((url, headers))
            return status, body

        monkeypatch.setattr(target, "get_json", get_json)

    tokens = tmp_path / "tokens"
    tokens.write_text("first-token\nsecond-token\n")
    return set_answer, tokens, seen


def test_bench_starts_its_own_system_with_them_on():
    assert target.BENCH_ENV["MINI_BENCH_ENDPOINTS"] == "1"


def test_routed_endpoints_pass_with_the_first_token(answer):
    set_answer, tokens, seen = answer
    set_answer(200)
    target.require_bench_endpoints(Running(), tokens, running=True)
    assert seen == [
        ("http://gateway.test/api/v1/order/ping/hops", {"Authorization": "Bearer first-token"})
    ]


@pytest.mark.parametrize(
    "status, body",
    [
        (404, '{"status": 404}'),  # mini_order routes none
        (503, '{"detail": "billing answered its ping with 404"}'),  # mini_billing routes none
    ],
)
def test_use_running_without_them_says_how_to_turn_them_on(answer, status, body):
    set_answer, tokens, _ = answer
    set_answer(status, body)
    with pytest.raises(BenchError, match="MINI_BENCH_ENDPOINTS=1 python3 manage_all.py up"):
        target.require_bench_endpoints(Running(), tokens, running=True)


def test_another_failure_is_reported_as_it_is(answer):
    set_answer, tokens, _ = answer
    set_answer(502, "bad gateway")
    with pytest.raises(BenchError, match="ping/hops: 502 bad gateway"):
        target.require_bench_endpoints(Running(), tokens, running=False)
