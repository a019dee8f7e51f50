"""Circuit breakers: open after the configured failures, fail fast, close on a good probe.

Latencies are taken at mini_order's own port (with the headers nginx adds),
so they are the service's, not the gateway's.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mini_common.breakers import RESET_TIMEOUT_JITTER
from tests.fault.conftest import (
    BREAKER_FAIL_MAX,
    BREAKER_RESET_TIMEOUT,
    LOAD_RESET_TIMEOUT,
    READ_TIMEOUT,
)
from tests.fault.helpers import (
    ONE_ITEM,
    assert_audit_clean,
    clone,
    get_order,
    log_count,
    log_offset,
    median,
    new_key,
    payments,
    reconcile,
    server_durations,
    timed,
    wait_until,
)
from tests.support import assert_problem

FAST = 0.050  # an open breaker answers within this (median)
OPENED = "circuit billing: closed -> open"


def fails_fast(results):
    """All 503 dependency_unavailable with Retry-After; (median, max) latency."""
    for response, _ in results:
        assert_problem(response, 503, "dependency_unavailable")
        assert int(response.headers["Retry-After"]) >= 1
    seconds = [elapsed for _, elapsed in results]
    return median(seconds), max(seconds)


def calls_one_by_one(rig, username, calls=25):
    """`calls` orders one after the other, each with its own X-Request-ID: (ids, results)."""
    ids = [f"fault-open-{new_key()}" for _ in range(calls)]
    return ids, [timed(lambda i=i: rig.direct.post(username, request_id=i)) for i in ids]


def open_latency(rig, ids, results):
    """(median at mini_order, median at the client, max at the client) of fast failures.

    At mini_order: the duration its access log gives (without the client's own
    connection set-up and the machine's scheduling around the client).
    """
    at_client, worst = fails_fast(results)
    return median(server_durations(rig.system, "order", ids)), at_client, worst


def test_breaker_opens_after_the_failures_fails_fast_and_a_probe_closes_it(outage):
    """Per-process breakers (no Redis): each mini_order worker opens its own."""
    user = outage.user(balance=1000)
    direct = outage.direct
    hanging = outage.freezer.stop(outage.system, "billing")  # accepts connections, never answers
    try:
        # One request per worker, at once: each worker waits on BREAKER_FAIL_MAX read
        # timeouts (its retries) and then its breaker opens.
        with ThreadPoolExecutor(outage.workers) as pool:
            opening = list(
                pool.map(
                    lambda _: timed(lambda: direct.post(user.username, key=new_key())),
                    range(outage.workers),
                )
            )
        for response, seconds in opening:
            assert_problem(response, 503, "dependency_unavailable")
            assert seconds >= BREAKER_FAIL_MAX * READ_TIMEOUT * 0.95, seconds
        opened = time.monotonic()
        opening_ids = [response.json()["orderId"] for response, _ in opening]

        one_by_one = calls_one_by_one(outage, user.username, calls=15)
        assert time.monotonic() - opened < BREAKER_RESET_TIMEOUT, "too slow to test the open state"
        at_service, at_client, worst = open_latency(outage, *one_by_one)
        print(
            f"opening calls {[round(s, 2) for _, s in opening]}s; open: median "
            f"{at_service * 1000:.1f} ms at mini_order, {at_client * 1000:.1f} ms at the client, "
            f"max {worst * 1000:.1f} ms"
        )
        assert at_service < FAST, f"median {at_service * 1000:.1f} ms"
        assert worst < READ_TIMEOUT, f"max {worst * 1000:.1f} ms: waited for billing"
    finally:
        outage.freezer.cont(hanging)

    # Billing is back. After the reset timeout each worker's next call is a probe: it
    # succeeds and closes that worker's breaker.
    time.sleep(BREAKER_RESET_TIMEOUT * (1 + RESET_TIMEOUT_JITTER) + 0.2)
    probes = []
    outage.all_workers_at_once(
        outage.proxies["billing"],
        lambda: probes.append(timed(lambda: clone(user).order(ONE_ITEM))),
    )
    assert [(r.status_code, r.json()["status"]) for r, _ in probes] == [(201, "PAID")] * len(probes)
    assert len(probes) == outage.workers
    after = [direct.post(user.username) for _ in range(6)]
    assert [r.status_code for r in after] == [201] * 6, [r.text for r in after]

    # The payments the opening requests sent to the hanging billing were taken when it
    # resumed: reconcile finds them and the orders become PAID, with one payment each.
    assert f"paid {len(opening_ids)}" in reconcile(outage.system)
    for order_id in opening_ids:
        assert get_order(user, order_id)["status"] == "PAID"
        assert len(payments(user, order_id)) == 1
    assert_audit_clean(outage.system, reconciled=False)


def test_shared_breaker_opened_by_one_worker_fails_fast_in_every_worker(load):
    """With REDIS_URL the breaker's state is shared by all workers of mini_order."""
    if load.redis_problem:
        pytest.skip(load.redis_problem)
    user = load.user(balance=1000)
    direct = load.direct
    # Every worker calls billing once first, so each has its breaker (closed) when the
    # fault comes, and logs the change when it finds the shared state open.
    load.all_workers_at_once(load.proxies["billing"], lambda: clone(user).order(ONE_ITEM))
    log = load.system.log_file("order")
    offset = log_offset(log)
    hanging = load.freezer.stop(load.system, "billing")
    try:
        # One request in one worker: its BREAKER_FAIL_MAX failed attempts open the breaker.
        response, seconds = timed(lambda: direct.post(user.username, key=new_key()))
        assert_problem(response, 503, "dependency_unavailable")
        assert seconds >= BREAKER_FAIL_MAX * READ_TIMEOUT * 0.95, seconds
        opened = time.monotonic()
        opening_id = response.json()["orderId"]

        # Many calls at once, so that every worker takes some: none waits for billing
        # (a worker that did not know the breaker is open would wait READ_TIMEOUT at least).
        with ThreadPoolExecutor(2 * load.workers) as pool:
            burst = list(pool.map(lambda _: timed(lambda: direct.post(user.username)), range(36)))
        _, worst = fails_fast(burst)
        assert worst < READ_TIMEOUT, f"max {worst * 1000:.1f} ms: a worker waited for billing"
        # And one after the other, to take the service's own latency without queueing.
        one_by_one = calls_one_by_one(load, user.username, calls=15)
        assert time.monotonic() - opened < LOAD_RESET_TIMEOUT - 1, "too slow to test the open state"
        at_service, at_client, _ = open_latency(load, *one_by_one)
        print(
            f"shared open breaker: median {at_service * 1000:.1f} ms at mini_order, "
            f"{at_client * 1000:.1f} ms at the client one by one; "
            f"max {worst * 1000:.1f} ms of {len(burst)} at {2 * load.workers} at once"
        )
        assert at_service < FAST, f"median {at_service * 1000:.1f} ms"
        # Every worker saw the open state in Redis (each logs it once when it notices).
        assert log_count(log, OPENED, offset=offset) == load.workers
    finally:
        load.freezer.cont(hanging)

    # Back: the first call after the reset timeout probes, succeeds, and closes it for all.
    def probe():
        response = direct.post(user.username)
        if response.status_code == 503:
            return None
        return response

    closed_by = wait_until(probe, timeout=LOAD_RESET_TIMEOUT + 5, interval=0.2)
    assert closed_by.status_code == 201 and closed_by.json()["status"] == "PAID", closed_by.text
    with ThreadPoolExecutor(3 * load.workers) as pool:
        after = list(pool.map(lambda _: direct.post(user.username), range(18)))
    assert [r.status_code for r in after] == [201] * 18, [r.text for r in after]

    assert "paid 1" in reconcile(load.system)
    assert get_order(user, opening_id)["status"] == "PAID"
    assert_audit_clean(load.system, reconciled=False)


def test_slow_billing_does_not_serialize_concurrent_orders(load):
    """pybreaker holds a per-breaker lock for the whole call: harmless with sync workers.

    Each worker is a process with its own breaker object, so N concurrent orders
    each waiting DELAY on billing finish in about one DELAY, not N of them.
    """
    delay = 0.6
    users = [load.user(balance=100) for _ in range(load.workers)]
    proxy = load.proxies["billing"]
    proxy.delay(delay)
    try:
        single, alone = timed(lambda: users[0].order(ONE_ITEM))
        with ThreadPoolExecutor(load.workers) as pool:
            together, elapsed = timed(lambda: list(pool.map(lambda u: u.order(ONE_ITEM), users)))
    finally:
        proxy.pass_through()
    print(
        f"one order with billing {delay}s slow: {alone:.2f}s; "
        f"{load.workers} at once: {elapsed:.2f}s"
    )
    for response in (single, *together):
        assert response.status_code == 201 and response.json()["status"] == "PAID", response.text
    assert alone >= delay
    # Serialized they would take load.workers * alone >= alone + 2 * delay.
    assert elapsed < alone + delay, f"{elapsed:.2f}s for {load.workers}, {alone:.2f}s for one"
    assert_audit_clean(load.system, reconciled=False)


def test_redis_outage_leaves_orders_working(load):
    """Redis only shares breaker state: without it, calls must go on (closed, per process)."""
    if load.redis_problem:
        pytest.skip(load.redis_problem)
    user = load.user(balance=100)
    redis = load.proxies["redis"]
    redis.drop()  # every connection to Redis is reset, for this system alone
    try:
        # Fresh workers, whose breakers are made on their first call to a dependency.
        load.system.restart_service("order")
        response = load.direct.post(user.username, key=new_key())
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "PAID"
    finally:
        redis.pass_through()
    assert user.balance() == 90
    assert_audit_clean(load.system)
