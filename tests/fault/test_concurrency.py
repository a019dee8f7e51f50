"""Concurrent orders and a worker crash in the middle of them: money adds up exactly."""

import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.fault.conftest import LOAD_RETRY_WINDOW
from tests.fault.helpers import (
    ONE_ITEM,
    all_pages,
    assert_audit_clean,
    clone,
    new_key,
    payments,
    reconcile,
    worker_pids,
)
from tests.support import assert_problem

FINAL = {"PAID", "INSUFFICIENT_FUNDS", "CANCELLED"}


def at_once(count, call):
    """call(i) in `count` threads released together; the results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def account_payments(user):
    operations = all_pages(user.api, "/billing/account/operations")
    return [op for op in operations if op["type"] == "PAYMENT"]


def test_fifty_concurrent_orders_on_an_account_that_pays_for_ten(load):
    user = load.user(balance=100)
    clients = [clone(user) for _ in range(50)]
    balances: list = []
    done = threading.Event()

    def watch():
        watcher = clone(user)
        while not done.is_set():
            balances.append(watcher.balance())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        responses = at_once(50, lambda i: clients[i].order(ONE_ITEM, key=new_key()))
    finally:
        done.set()
        watcher.join(30)

    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses][:3]
    assert Counter(r.json()["status"] for r in responses) == {"PAID": 10, "INSUFFICIENT_FUNDS": 40}
    assert user.balance() == 0
    assert balances and min(balances) >= 0, balances
    paid = sorted(r.json()["id"] for r in responses if r.json()["status"] == "PAID")
    assert sorted(op["orderId"] for op in account_payments(user)) == paid
    assert_audit_clean(load.system)


def test_twenty_identical_requests_make_one_order_and_one_payment(load):
    user = load.user(balance=100)
    key = new_key()
    clients = [clone(user) for _ in range(20)]
    responses = at_once(20, lambda i: clients[i].order(ONE_ITEM, key=key))

    created = [r for r in responses if r.status_code == 201]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_progress) == 20, [r.text for r in responses]
    for response in in_progress:
        assert_problem(response, 409, "request_in_progress")
    first = [r for r in created if r.headers.get("Idempotent-Replayed") != "true"]
    assert len(first) == 1, [dict(r.headers) for r in created]
    order = first[0].json()
    assert order["status"] == "PAID"
    assert all(r.json() == order for r in created)  # the replays are the stored answer
    print(f"20 identical: {len(created) - 1} replayed, {len(in_progress)} in progress")

    again = user.order(ONE_ITEM, key=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == order
    assert [o["id"] for o in all_pages(user.api, "/api/v1/order")] == [order["id"]]
    assert len(payments(user, order["id"])) == 1
    assert user.balance() == 90
    assert_audit_clean(load.system, reconciled=False)


def test_worker_killed_during_a_burst_of_orders(load):
    """Two mini_order workers die mid-burst: one surely inside a payment, one anywhere."""
    system, proxy = load.system, load.proxies["billing"]
    user = load.user(balance=200)  # pays for 20 of the 30 orders
    keys = [new_key() for _ in range(30)]
    answers: dict[str, object] = {}
    answered = threading.Semaphore(0)

    def place(key):
        answers[key] = clone(user).order(ONE_ITEM, key=key)
        answered.release()

    killed = []
    proxy.hold()
    try:
        with ThreadPoolExecutor(2 * load.workers) as pool:
            futures = [pool.submit(place, key) for key in keys]
            # Every worker is inside a payment that billing has taken: kill one of them.
            assert proxy.wait_held(load.workers, timeout=15), proxy
            victim = worker_pids(system, "order")[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            proxy.release()
            # Another one at whatever point it is, once a third of the orders are answered.
            for _ in range(10):
                assert answered.acquire(timeout=30)
            victim = next(pid for pid in worker_pids(system, "order") if pid not in killed)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            for future in futures:
                future.result(timeout=60)
    finally:
        proxy.release()

    statuses = Counter(response.status_code for response in answers.values())
    print(f"worker kills {killed}: answers {dict(statuses)}")
    assert set(statuses) <= {201, 502, 503}, statuses
    assert statuses[502] >= 1, statuses  # at least the one killed inside its payment
    answered_ok = {
        r.json()["id"]: r.json()["status"] for r in answers.values() if r.status_code == 201
    }

    # Their clients retry the failed requests with their keys: never a second order or payment.
    retried = Counter()
    for key, response in answers.items():
        if response.status_code != 201:
            retry = user.order(ONE_ITEM, key=key)
            retried[retry.status_code] += 1
            assert retry.status_code in (201, 409, 503), retry.text
            if retry.status_code == 201:
                answered_ok[retry.json()["id"]] = retry.json()["status"]
            if retry.status_code == 409:
                assert_problem(retry, 409, "request_in_progress")  # the dead request's lease
    print(f"their retries: {dict(retried)}")

    # reconcile settles what the crashes left NEW: PAID if billing has the payment, else
    # CANCELLED once the (short) retry window has passed.
    deadline = time.monotonic() + LOAD_RETRY_WINDOW + 15
    while True:
        orders = all_pages(user.api, "/api/v1/order")
        if all(order["status"] in FINAL for order in orders) or time.monotonic() > deadline:
            break
        reconcile(system)
        time.sleep(1)
    final = Counter(order["status"] for order in orders)
    print(f"orders after reconcile: {dict(final)}")
    assert set(final) <= FINAL, final
    assert len(orders) <= len(keys)
    by_id = {order["id"]: order["status"] for order in orders}
    for order_id, status in answered_ok.items():
        assert by_id[order_id] == status  # what a client was told stays true
    paid = sorted(order_id for order_id, status in by_id.items() if status == "PAID")
    # At most two orders never reached billing: the account paid for all it could, once each.
    assert len(paid) == 20, final
    assert sorted(op["orderId"] for op in account_payments(user)) == paid
    assert user.balance() == 0
    assert_audit_clean(system)
