"""mini_billing down, slow, or answering into a crash: money is taken once, orders end PAID."""

import threading

from tests.fault.conftest import CONNECT_TIMEOUT, READ_TIMEOUT, REQUEST_BUDGET
from tests.fault.helpers import (
    ONE_ITEM,
    assert_audit_clean,
    audit,
    get_order,
    kill_service,
    new_key,
    order_notifications,
    order_until_final,
    payments,
    reconcile,
    server_durations,
    timed,
)
from tests.support import assert_problem

PAYMENT_CALL = "POST /billing/account/operate"
NOTIF_PING = "GET /api/v1/notification/ping"


def test_billing_down_fails_fast_and_the_same_request_completes_the_order(outage):
    user = outage.user(balance=100)
    key = new_key()
    request_id = f"fault-billing-down-{key}"
    outage.system.stop_service("billing")
    try:
        response, seconds = timed(
            lambda: user.api.post(
                "/api/v1/order",
                {"orderPositions": ONE_ITEM},
                headers={"Idempotency-Key": key, "X-Request-ID": request_id},
            )
        )
        problem = assert_problem(response, 503, "dependency_unavailable")
        assert int(response.headers["Retry-After"]) >= 1
        order_id = problem["orderId"]
        [at_service] = server_durations(outage.system, "order", [request_id])
        print(f"billing down: 503 in {at_service * 1000:.0f} ms at mini_order, {seconds:.3f}s")
        # Refused connections fail at once: not even a connect timeout was waited for.
        assert at_service < CONNECT_TIMEOUT, f"503 took {at_service:.3f}s at mini_order"
        assert seconds < READ_TIMEOUT, f"503 took {seconds:.3f}s"
        assert get_order(user, order_id)["status"] == "NEW"
    finally:
        outage.system.start_service("billing")
        outage.system.wait_ready(["billing"])

    assert user.balance() == 100  # nothing was taken while billing was down
    assert payments(user, order_id) == []
    final, seen = order_until_final(user, ONE_ITEM, key)
    assert final.status_code == 201, (seen, final.text)
    assert final.json()["id"] == order_id
    assert final.json()["status"] == "PAID"
    assert len(payments(user, order_id)) == 1
    assert user.balance() == 90
    assert [n["notificationType"] for n in order_notifications(user, order_id)] == ["SUCCESS"]
    assert_audit_clean(outage.system, reconciled=False)


def test_billing_slower_than_the_timeout_after_taking_the_money(outage):
    user = outage.user(balance=100)
    key = new_key()
    proxy = outage.proxies["billing"]
    asked_before = proxy.requests.count(f"{PAYMENT_CALL} HTTP/1.1")
    proxy.delay(READ_TIMEOUT + 1.5)
    try:
        response, seconds = timed(lambda: user.order(ONE_ITEM, key=key))
    finally:
        proxy.pass_through()
    problem = assert_problem(response, 503, "dependency_unavailable")
    order_id = problem["orderId"]
    print(f"billing slow: 503 after {seconds:.2f}s")
    # It waited for billing (timeouts, not a refusal), and gave up within its own budget.
    assert READ_TIMEOUT <= seconds < REQUEST_BUDGET + 0.5, f"503 took {seconds:.3f}s"
    asked = proxy.requests.count(f"{PAYMENT_CALL} HTTP/1.1") - asked_before
    assert asked >= 2, f"the client should have retried the payment: {asked} calls"
    # Billing did take the money (once, despite the retries); the order does not know yet.
    assert user.balance() == 90
    assert len(payments(user, order_id)) == 1
    assert get_order(user, order_id)["status"] == "NEW"

    final, seen = order_until_final(user, ONE_ITEM, key)
    assert final.status_code == 201, (seen, final.text)
    assert (final.json()["id"], final.json()["status"]) == (order_id, "PAID")
    assert len(payments(user, order_id)) == 1
    assert user.balance() == 90
    assert [n["notificationType"] for n in order_notifications(user, order_id)] == ["SUCCESS"]
    assert_audit_clean(outage.system, reconciled=False)


def test_order_killed_between_payment_and_status_update_is_finished_by_reconcile(outage):
    user = outage.user(balance=100)
    proxy = outage.proxies["billing"]
    answers = []
    proxy.hold()
    try:
        caller = threading.Thread(
            target=lambda: answers.append(user.order(ONE_ITEM, key=new_key()))
        )
        caller.start()
        # Billing has taken the payment and answered; mini_order has not heard it yet.
        assert proxy.wait_held(1, timeout=10), proxy
        killed = kill_service(outage.system, "order")
    finally:
        proxy.release()
    caller.join(20)
    assert answers and answers[0].status_code == 502, (killed, answers and answers[0].text)

    outage.system.start_service("order")
    outage.system.wait_ready(["order"])
    [order] = user.api.get("/api/v1/order").json()["results"]
    assert order["status"] == "NEW"
    assert len(payments(user, order["id"])) == 1
    assert user.balance() == 90
    # The audit sees the payment of an order still NEW as work in flight, not as a violation.
    ok, report, settled = audit(outage.system)
    assert ok and not settled, report
    assert f"order {order['id']}" in report and "still NEW" in report, report

    summary = reconcile(outage.system)
    assert "paid 1" in summary, summary
    assert get_order(user, order["id"])["status"] == "PAID"
    assert len(payments(user, order["id"])) == 1
    assert user.balance() == 90
    notes = order_notifications(user, order["id"])
    assert [n["notificationType"] for n in notes] == ["SUCCESS"]
    assert_audit_clean(outage.system)
    assert len(order_notifications(user, order["id"])) == 1  # a second reconcile sent nothing


def test_hops_ping_stops_at_an_unavailable_billing_with_a_problem(outage):
    """bench's ping/hops: billing answering 503 is a 503 problem; notif is not called."""
    user = outage.user()
    outage.proxies["billing"].unavailable()
    response = user.api.get("/api/v1/order/ping/hops")
    problem = assert_problem(response, 503, "dependency_unavailable")
    assert problem["service"] == "billing"
    assert NOTIF_PING not in " ".join(outage.proxies["notif"].requests)
