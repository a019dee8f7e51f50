"""A payment that reaches mini_billing's database after its order was given up.

The unlucky operator's scenario: another transaction holds the user's account
row while an order is placed. The PAYMENT waits on that row in a billing
worker; the client gets its 503; the retry window passes and ``reconcile``
settles the order; then the row is released and the PAYMENT goes on. Whatever
the timing, the order's status and the money must agree in the end: a PAID
order with its payment, or a CANCELLED one with the balance untouched.
"""

import os
import threading
import time

import psycopg2
import pytest

from tests.fault.conftest import start_rig
from tests.fault.helpers import (
    ONE_ITEM,
    assert_audit_clean,
    get_order,
    new_key,
    payments,
    reconcile,
    wait_until,
)
from tests.support import assert_problem


class AccountRowHeld:
    """A transaction holding ``username``'s row in mini_billing's database, as a slow job would."""

    def __init__(self, database_url: str, username: str) -> None:
        self.connection = psycopg2.connect(database_url)
        self.username = username

    def __enter__(self):
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM billing_account WHERE username = %s FOR UPDATE", [self.username]
            )
            assert cursor.fetchone(), f"{self.username} has no account"
        return self

    def waiting(self) -> int:
        """How many other sessions wait for a lock (the stalled PAYMENT, the void)."""
        with psycopg2.connect(self.connection.dsn) as probe, probe.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    def __exit__(self, *exc_info):
        self.connection.rollback()  # releases the row
        self.connection.close()


RETRY_WINDOW = 10  # seconds: reconcile gives a NEW order up after it


@pytest.fixture(scope="module")
def late(tmp_path_factory):
    """A system whose mini_billing has workers to spare while some wait on a row lock.

    The stalled PAYMENT and its retries each hold a billing worker; reconcile's
    own call to mini_billing must find a free one, as it does in production.
    """
    if not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("a row lock held by another transaction needs PostgreSQL (TEST_POSTGRES_URL)")
    rig = start_rig(
        tmp_path_factory,
        "late",
        proxied=(),
        workers=2,
        env={"ORDER_RETRY_WINDOW": str(RETRY_WINDOW), "GUNICORN_WORKERS_BILLING": "6"},
    )
    try:
        yield rig
    finally:
        rig.close()


def test_a_payment_stalled_past_the_cancellation_ends_in_agreement(late):
    user = late.user(balance=100)
    key = new_key()

    with AccountRowHeld(late.database_urls["billing"], user.username) as held:
        response = user.order(ONE_ITEM, key=key)
        order_id = assert_problem(response, 503, "dependency_unavailable")["orderId"]
        assert "not known yet" in response.json()["detail"]  # never "not paid"
        stalled = wait_until(held.waiting, timeout=10)  # the PAYMENT waits on the row
        time.sleep(RETRY_WINDOW + 1)  # past the retry window: reconcile gives the order up
        settling = threading.Thread(target=reconcile, args=(late.system,))
        settling.start()
        # Give reconcile the time to settle the order, or to wait on the row itself.
        wait_until(lambda: held.waiting() > stalled or not settling.is_alive(), timeout=15)

    settling.join(30)
    # The row is free: the stalled PAYMENT goes on. Then reconcile settles from what
    # billing did, and the order's status and the money agree.
    wait_until(lambda: held_released_and_settled(user, order_id), timeout=15)
    assert_audit_clean(late.system)
    order = get_order(user, order_id)
    paid = payments(user, order_id)
    if order["status"] == "PAID":
        assert [p["amount"] for p in paid] == [10] and user.balance() == 90
    else:
        assert (order["status"], paid, user.balance()) == ("CANCELLED", [], 100)


def held_released_and_settled(user, order_id) -> bool:
    """Billing has finished with the stalled PAYMENT: paid, or refused as void."""
    return bool(payments(user, order_id)) or get_order(user, order_id)["status"] != "NEW"
