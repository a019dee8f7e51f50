"""The order flow through POST /api/v1/order: payment, notification, failures and retries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mini_common.errors import DependencyUnavailable
from orders.models import Order
from orders.reconcile import orders_reconcile
from orders.remote import Contact, Payment, PaymentOutcome

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"
ORDER = {"orderPositions": [{"productId": 1, "price": 150, "quantity": 2}], "shopId": 1}


@pytest.fixture
def alice(make_user_client):
    return make_user_client("alice")


def place(client, body=ORDER, key: str | None = "order-key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, format="json", **headers)


def test_paid_flow_pays_then_notifies_with_derived_keys(alice, fake_remote):
    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-42")
    response = place(alice)

    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json()["id"] == order.pk
    assert response.json()["status"] == "PAID"
    assert fake_remote.call_names == ["payment_take", "profile_fetch", "notification_send"]
    assert fake_remote.called("payment_take") == [
        {
            "order_id": order.pk,
            "username": "alice",
            "amount": Decimal("300.00"),
            "idempotency_key": f"order-{order.pk}-payment",
        }
    ]
    [notification] = fake_remote.called("notification_send")
    assert notification["notification_type"] == "SUCCESS"
    assert notification["order_id"] == order.pk
    assert notification["username"] == "alice"
    assert notification["contact"].email == "alice@example.com"
    assert notification["idempotency_key"] == f"order-{order.pk}-notification-PAID"
    assert f"#{order.pk}" in notification["text"] and "300.00" in notification["text"]
    assert (order.status, order.payment_operation_id, order.notified_status) == (
        "PAID",
        "op-42",
        "PAID",
    )
    assert order.idempotency_key == "order-key-1"


def test_insufficient_funds_sends_a_fail_notification(alice, fake_remote):
    fake_remote.payment = Payment(PaymentOutcome.DECLINED, code="insufficient_funds")
    response = place(alice)

    assert response.status_code == 201
    assert response.json()["status"] == "INSUFFICIENT_FUNDS"
    order = Order.objects.get()
    [notification] = fake_remote.called("notification_send")
    assert notification["notification_type"] == "FAIL"
    assert notification["idempotency_key"] == f"order-{order.pk}-notification-INSUFFICIENT_FUNDS"
    assert "300.00" in notification["text"]
    assert (order.payment_operation_id, order.notified_status) == ("", "INSUFFICIENT_FUNDS")


def test_billing_unavailable_is_a_503_and_the_same_request_completes_the_order(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing", retry_after=7)
    first = place(alice)

    assert first.status_code == 503
    assert first["Content-Type"] == "application/problem+json"
    assert first["Retry-After"] == "7"
    order = Order.objects.get()
    assert first.json()["code"] == "dependency_unavailable"
    assert first.json()["orderId"] == order.pk
    assert order.status == "NEW"
    assert fake_remote.called("notification_send") == []

    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-7")
    again = place(alice)

    assert again.status_code == 201
    assert again.json()["id"] == order.pk
    assert again.json()["status"] == "PAID"
    assert Order.objects.count() == 1
    keys = [call["idempotency_key"] for call in fake_remote.called("payment_take")]
    assert keys == [f"order-{order.pk}-payment"] * 2
    assert len(fake_remote.called("notification_send")) == 1


def test_open_billing_circuit_refuses_the_order_before_saving_anything(
    alice, fake_remote, monkeypatch
):
    # The breaker itself is tested in mini_common; here: what the order API does with it.
    monkeypatch.setattr(
        "mini_common.failfast.seconds_open", lambda name: 7.2 if name == "billing" else 0.0
    )
    refused = place(alice)

    assert refused.status_code == 503
    assert refused["Retry-After"] == "8"
    assert refused.json()["code"] == "dependency_unavailable"
    assert "orderId" not in refused.json()
    assert not Order.objects.exists()
    assert fake_remote.calls == []

    monkeypatch.setattr("mini_common.failfast.seconds_open", lambda name: 0.0)
    assert place(alice).status_code == 201  # the same key, from scratch


@pytest.mark.django_db(transaction=True)
def test_a_new_order_costs_three_statements(alice, fake_remote):
    # The hot path's database work, pinned so that a change which adds a round
    # trip shows up here: the order (its own key record) and its positions,
    # then PAID, notified and the lease's end in one UPDATE. (Transaction
    # control is not counted.)
    with CaptureQueriesContext(connection) as queries:
        assert place(alice).status_code == 201
    verbs = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    data = [verb for verb in verbs if verb not in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}]
    assert data == ["INSERT", "INSERT", "UPDATE"]


def test_retry_with_the_same_key_and_another_body_is_refused(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    other = {"orderPositions": [{"productId": 2, "price": 5, "quantity": 1}]}
    response = place(alice, other)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_without_a_key_a_repeated_request_is_another_order(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing")
    assert place(alice, key=None).status_code == 503
    assert place(alice, key=None).status_code == 503
    assert Order.objects.filter(status="NEW").count() == 2


def test_completed_request_is_replayed_without_side_effects(alice, fake_remote):
    first = place(alice)
    again = place(alice)
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(fake_remote.called("payment_take")) == 1
    assert len(fake_remote.called("notification_send")) == 1


def test_a_finished_request_leaves_no_lease(alice, fake_remote):
    place(alice)
    assert Order.objects.get().locked_until is None


def hold_lease(seconds: float) -> None:
    """As while the request that created the order is still working on it."""
    Order.objects.update(locked_until=timezone.now() + timedelta(seconds=seconds))


def test_same_key_while_the_first_request_works_is_a_409(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    hold_lease(60)
    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-8")

    response = place(alice)

    assert response.status_code == 409
    assert response.json()["code"] == "request_in_progress"
    assert Order.objects.get().status == "NEW"
    assert len(fake_remote.called("payment_take")) == 1  # only the first request's


def test_a_lease_left_by_a_dead_request_expires_and_a_retry_finishes_the_order(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    hold_lease(-1)  # its request died mid-way: the lease ran out
    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-9")

    response = place(alice)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response  # resumed, not replayed
    order = Order.objects.get()
    assert (order.status, order.notified_status, order.locked_until) == ("PAID", "PAID", None)


def test_billing_unavailable_ends_the_lease_so_the_retry_may_resume_at_once(alice, fake_remote):
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    assert Order.objects.get().locked_until is None


def test_notification_is_sent_before_the_final_status_is_committed(alice, fake_remote, monkeypatch):
    # The ADR's order: notify, then set PAID, in one UPDATE with the delivery.
    statuses = []

    def notification_send(**kwargs):
        statuses.append(Order.objects.get(pk=kwargs["order_id"]).status)
        return True

    monkeypatch.setattr("orders.remote.notification_send", notification_send)
    assert place(alice).json()["status"] == "PAID"
    assert statuses == ["NEW"]
    assert Order.objects.get().notified_status == "PAID"


def test_same_key_for_two_users_makes_two_orders(make_user_client, fake_remote):
    assert place(make_user_client("alice")).status_code == 201
    assert place(make_user_client("bob")).status_code == 201
    assert Order.objects.count() == 2


def test_notification_failure_keeps_the_payment_and_reconcile_delivers_it(alice, fake_remote):
    fake_remote.notification = DependencyUnavailable("notif")
    response = place(alice)

    assert response.status_code == 201
    assert response.json()["status"] == "PAID"
    order = Order.objects.get()
    assert (order.status, order.notified_status) == ("PAID", "")

    fake_remote.notification = True
    summary = orders_reconcile()
    order.refresh_from_db()
    assert summary.notified == 1
    assert order.notified_status == "PAID"
    keys = {call["idempotency_key"] for call in fake_remote.called("notification_send")}
    assert keys == {f"order-{order.pk}-notification-PAID"}
    assert len(fake_remote.called("payment_take")) == 1  # reconcile never pays

    assert orders_reconcile().notified == 0
    assert len(fake_remote.called("notification_send")) == 2  # the failed try and the delivery


def test_profile_unavailable_without_stale_copy_still_answers_201(alice, fake_remote):
    fake_remote.contact = DependencyUnavailable("user")
    response = place(alice)
    assert response.status_code == 201
    assert response.json()["status"] == "PAID"
    assert fake_remote.called("notification_send") == []
    assert Order.objects.get().notified_status == ""


@pytest.mark.parametrize("contact", [None, pytest.param("empty", id="no-email-no-phone")])
def test_user_without_contact_data_gets_no_notification(alice, fake_remote, contact):
    fake_remote.contact = Contact() if contact == "empty" else None
    response = place(alice)
    assert response.status_code == 201
    assert fake_remote.called("notification_send") == []


def test_notification_refused_by_notif_leaves_it_owed(alice, fake_remote):
    fake_remote.notification = False
    assert place(alice).status_code == 201
    assert Order.objects.get().notified_status == ""


def test_payment_rejected_by_billing_cancels_the_order(alice, fake_remote):
    fake_remote.payment = Payment(
        PaymentOutcome.REJECTED, code="account_not_found", detail="No account for alice"
    )
    response = place(alice)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    order = Order.objects.get()
    body = response.json()
    assert (body["code"], body["orderId"], body["billingCode"]) == (
        "payment_rejected",
        order.pk,
        "account_not_found",
    )
    assert body["detail"] == "No account for alice"
    assert order.status == "CANCELLED"
    assert fake_remote.called("notification_send") == []


def test_retry_of_a_cancelled_order_is_a_409(alice, fake_remote):
    fake_remote.payment = Payment(PaymentOutcome.REJECTED, code="account_not_found")
    place(alice)

    response = place(alice)
    assert response.status_code == 409
    assert response.json()["code"] == "order_cancelled"
    assert response.json()["orderId"] == Order.objects.get().pk
    assert len(fake_remote.called("payment_take")) == 1


def test_retry_with_another_body_after_the_records_expired_is_refused(alice, fake_remote):
    place(alice)
    other = {"orderPositions": [{"productId": 1, "price": 150, "quantity": 3}]}
    response = place(alice, other)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_retry_of_a_final_order_delivers_the_owed_notification(alice, fake_remote):
    fake_remote.notification = DependencyUnavailable("notif")
    place(alice)
    fake_remote.notification = True

    response = place(alice)
    assert response.status_code == 201
    assert response.json()["status"] == "PAID"
    assert Order.objects.get().notified_status == "PAID"
    assert len(fake_remote.called("payment_take")) == 1


def age_orders(seconds: float) -> None:
    Order.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.parametrize(
    "found, http_status, order_status", [("op-9", 201, "PAID"), (None, 409, "CANCELLED")]
)
def test_late_retry_never_pays_and_settles_from_billing(
    alice, fake_remote, settings, found, http_status, order_status
):
    settings.ORDER_RETRY_WINDOW = 900
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    age_orders(890)  # past the payment deadline, inside the window
    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-late")
    fake_remote.voided_payment = found

    response = place(alice)

    assert response.status_code == http_status
    assert Order.objects.get().status == order_status
    assert len(fake_remote.called("payment_take")) == 1  # only the first, failed attempt
    assert len(fake_remote.called("payment_void")) == 1  # billing settles it: paid, or void


def test_a_payment_refused_as_void_answers_the_order_cancelled(alice, fake_remote):
    # reconcile cancelled the order (its payment declared void) while the request was away.
    fake_remote.payment = Payment(PaymentOutcome.VOID, code="payment_void")
    response = place(alice)
    assert response.status_code == 409
    assert response.json()["code"] == "order_cancelled"
    order = Order.objects.get()
    assert (order.status, order.payment_voided) == ("CANCELLED", True)
    assert fake_remote.called("notification_send") == []


def test_retry_inside_the_payment_deadline_pays(alice, fake_remote, settings):
    settings.ORDER_RETRY_WINDOW = 900
    fake_remote.payment = DependencyUnavailable("billing")
    place(alice)
    age_orders(600)
    fake_remote.payment = Payment(PaymentOutcome.PAID, operation_id="op-2")
    assert place(alice).json()["status"] == "PAID"
    assert fake_remote.called("payment_find") == []
