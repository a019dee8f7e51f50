"""mini_notif or mini_user unavailable: orders are still PAID; notifications come once, later."""

import time

from tests.fault.conftest import READ_TIMEOUT
from tests.fault.helpers import (
    ONE_ITEM,
    assert_audit_clean,
    mails_about,
    new_key,
    order_notifications,
    reconcile,
)


def kinds(user, order_id):
    return [n["notificationType"] for n in order_notifications(user, order_id)]


def paid_order(user) -> int:
    response = user.order(ONE_ITEM, key=new_key())
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PAID", response.text
    return response.json()["id"]


def test_notif_down_orders_are_paid_and_reconcile_notifies_each_once(outage):
    user = outage.user(balance=100)
    outage.system.stop_service("notif")
    try:
        order_ids = [paid_order(user) for _ in range(3)]
        assert user.balance() == 70
    finally:
        outage.system.start_service("notif")
        outage.system.wait_ready(["notif"])
    assert [kinds(user, order_id) for order_id in order_ids] == [[], [], []]

    summary = reconcile(outage.system)
    assert "notified 3" in summary, summary
    assert [kinds(user, order_id) for order_id in order_ids] == [["SUCCESS"]] * 3
    assert_audit_clean(outage.system)  # reconciles once more: nothing is sent twice
    assert [kinds(user, order_id) for order_id in order_ids] == [["SUCCESS"]] * 3
    assert [mails_about(outage.system, order_id) for order_id in order_ids] == [1, 1, 1]
    assert user.balance() == 70


def test_notification_whose_answer_was_lost_is_not_sent_again(outage):
    """mini_notif sends the e-mail but its answer never arrives in time: retries replay it."""
    user = outage.user(balance=100)
    proxy = outage.proxies["notif"]
    proxy.delay(READ_TIMEOUT + 1.0)
    try:
        order_id = paid_order(user)
    finally:
        proxy.pass_through()
    # mini_notif has it (its answer was lost three times); mini_order still owes it.
    assert kinds(user, order_id) == ["SUCCESS"]
    summary = reconcile(outage.system)
    assert "notified 1" in summary, summary  # owed by mini_order, so sent again: a replay
    assert kinds(user, order_id) == ["SUCCESS"]
    assert mails_about(outage.system, order_id) == 1
    assert_audit_clean(outage.system)


def test_user_down_cached_profiles_serve_and_uncached_ones_wait_for_reconcile(outage):
    known = outage.user(balance=100)
    fresh = outage.user(balance=100)  # registered, never ordered: no cached profile anywhere
    user_proxy = outage.proxies["user"]
    profile_call = f"GET /api/v1/user/{known.username} HTTP/1.1"

    # One order per mini_order worker, all at once: every worker caches the profile.
    outage.all_workers_at_once(outage.proxies["billing"], lambda: paid_order(known))
    assert user_proxy.requests.count(profile_call) == outage.workers, user_proxy.requests[-5:]
    time.sleep(1.2)  # PROFILE_CACHE_TTL: the fresh copies expire, the stale ones stay

    outage.system.stop_service("user")
    try:
        served = [paid_order(known) for _ in range(4)]
        # Delivered at once from the stale copy, by whichever worker took the order.
        assert [kinds(known, order_id) for order_id in served] == [["SUCCESS"]] * 4
        waiting = paid_order(fresh)
        assert kinds(fresh, waiting) == []
        assert "unavailable 1" in reconcile(outage.system)  # still down: it keeps waiting
        assert kinds(fresh, waiting) == []
    finally:
        outage.system.start_service("user")
        outage.system.wait_ready(["user"])

    summary = reconcile(outage.system)
    assert "notified 1" in summary, summary
    assert kinds(fresh, waiting) == ["SUCCESS"]
    assert_audit_clean(outage.system, reconciled=False)
    assert kinds(fresh, waiting) == ["SUCCESS"]
    assert [kinds(known, order_id) for order_id in served] == [["SUCCESS"]] * 4
    assert mails_about(outage.system, waiting) == 1
