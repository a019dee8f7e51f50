"""An order's payment declared void: after it, no PAYMENT for the order takes money."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing.errors import PaymentVoided
from billing.models import Account, Operation, PaymentVoid
from billing.services import operation_perform, payment_void
from billing.tests.factories import AccountFactory
from mini_common.testing import run_in_threads, service_client_for_tests

VOID_URL = "/billing/payment/void"
OPERATE_URL = "/billing/account/operate"


def pay(order_id: int, amount: str = "30"):
    return operation_perform(
        username="alice", operation_type="PAYMENT", amount=Decimal(amount), order_id=order_id
    )


def balance() -> Decimal:
    return Account.objects.get(username="alice").balance


@pytest.mark.django_db
def test_a_void_order_is_never_paid():
    AccountFactory(username="alice", deposit="100")
    assert isinstance(payment_void(username="alice", order_id=7), PaymentVoid)
    with pytest.raises(PaymentVoided):
        pay(7)
    assert balance() == Decimal("100.00")
    assert not Operation.objects.filter(order_id=7).exists()


@pytest.mark.django_db
def test_a_paid_order_is_not_voided_the_payment_is_answered():
    AccountFactory(username="alice", deposit="100")
    payment, _ = pay(7)
    assert payment_void(username="alice", order_id=7) == payment
    assert not PaymentVoid.objects.exists()


@pytest.mark.django_db
def test_voiding_again_answers_the_same_void():
    AccountFactory(username="alice", deposit="100")
    first = payment_void(username="alice", order_id=7)
    assert payment_void(username="alice", order_id=7) == first
    assert PaymentVoid.objects.count() == 1


@pytest.mark.django_db
def test_the_api_answers_void_or_the_payment(make_service_client):
    AccountFactory(username="alice", deposit="100")
    order_service = make_service_client("mini_order", "alice")
    pay(8)

    void = order_service.post(VOID_URL, {"orderId": 7}, format="json")
    paid = order_service.post(VOID_URL, {"orderId": 8}, format="json")

    assert void.status_code == 200, void.json()
    assert void.json() == {"orderId": 7, "state": "VOID", "payment": None}
    assert paid.json()["state"] == "PAID"
    assert paid.json()["payment"]["orderId"] == 8
    refused = order_service.post(
        OPERATE_URL, {"type": "PAYMENT", "amount": 30, "orderId": 7}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_void"
    assert balance() == Decimal("70.00")


@pytest.mark.django_db
def test_a_later_payment_with_the_orders_key_replays_the_refusal(make_service_client):
    AccountFactory(username="alice", deposit="100")
    order_service = make_service_client("mini_order", "alice")
    order_service.post(VOID_URL, {"orderId": 7}, format="json")
    body = {"type": "PAYMENT", "amount": 30, "orderId": 7}
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-7-payment"}

    first = order_service.post(OPERATE_URL, body, format="json", **headers)
    again = order_service.post(OPERATE_URL, body, format="json", **headers)

    assert (first.status_code, again.status_code) == (409, 409)
    assert again["Idempotent-Replayed"] == "true"
    assert balance() == Decimal("100.00")


@pytest.mark.django_db
def test_only_internal_callers_void(make_user_client):
    AccountFactory(username="alice", deposit="100")
    response = make_user_client("alice").post(VOID_URL, {"orderId": 7}, format="json")
    assert response.status_code == 403
    assert not PaymentVoid.objects.exists()


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent transactions with row locks need PostgreSQL (DATABASE_URL=postgresql://...)",
)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def in_thread(work, results: list) -> threading.Thread:
    def run():
        try:
            results.append(work())
        except PaymentVoided as refused:
            results.append(refused)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def queued(first, second) -> list:
    """``first`` then ``second`` queued on alice's account row held by another transaction.

    The scenario of a stalled request: the row is held, both wait for it in this
    order, then it is released. Returns what each answered, in queue order.
    """
    held, release = threading.Event(), threading.Event()

    def hold_the_account_row():
        with transaction.atomic():
            Account.objects.select_for_update().get(username="alice")
            held.set()
            release.wait(10)

    holder = in_thread(hold_the_account_row, [])
    held.wait(10)
    first_results, second_results = [], []
    threads = [holder, in_thread(first, first_results)]
    wait_for(lambda: waiting_on_locks() >= 1)
    threads.append(in_thread(second, second_results))
    wait_for(lambda: waiting_on_locks() >= 2)
    release.set()
    for thread in threads:
        thread.join(15)
    return [*first_results, *second_results]


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the requests never queued on the row lock"
        time.sleep(0.02)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_payment_stalled_on_the_account_row_is_refused_when_the_void_got_the_row_first():
    AccountFactory(username="alice", deposit="100")

    void, payment = queued(lambda: payment_void(username="alice", order_id=7), lambda: pay(7))

    assert isinstance(void, PaymentVoid)
    assert isinstance(payment, PaymentVoided)
    assert balance() == Decimal("100.00")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_void_stalled_behind_the_payment_answers_the_payment():
    AccountFactory(username="alice", deposit="100")

    (payment, _created), void = queued(
        lambda: pay(7), lambda: payment_void(username="alice", order_id=7)
    )

    assert void == payment
    assert not PaymentVoid.objects.exists()
    assert balance() == Decimal("70.00")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_payments_and_voids_racing_on_many_orders_never_both_happen():
    AccountFactory(username="alice", deposit="1000")

    def work(index: int):
        order_id = index // 2 + 1
        client = service_client_for_tests("mini_order", "alice")
        if index % 2:
            return ("void", order_id, client.post(VOID_URL, {"orderId": order_id}, format="json"))
        body = {"type": "PAYMENT", "amount": 10, "orderId": order_id}
        return ("pay", order_id, client.post(OPERATE_URL, body, format="json"))

    answers = run_in_threads(work, 40)

    paid = set(Operation.objects.filter(type="PAYMENT").values_list("order_id", flat=True))
    void = set(PaymentVoid.objects.values_list("order_id", flat=True))
    assert paid.isdisjoint(void)
    assert paid | void == set(range(1, 21))
    for kind, order_id, response in answers:
        if kind == "void":
            assert response.json()["state"] == ("PAID" if order_id in paid else "VOID")
        elif order_id in paid:
            assert response.status_code == 200, response.content
        else:
            assert (response.status_code, response.json()["code"]) == (409, "payment_void")
    assert balance() == Decimal("1000.00") - 10 * len(paid)
