"""The adapters' HTTP side: what they send and how they read each answer (no real HTTP)."""

from decimal import Decimal

import pytest

from mini_common.errors import DependencyUnavailable
from orders import remote
from orders.remote import Contact, Payment, PaymentOutcome

PAY = {
    "order_id": 5,
    "username": "alice",
    "amount": Decimal("131.50"),
    "idempotency_key": "order-5-payment",
}


def test_payment_request_and_success(fake_clients):
    billing = fake_clients["billing"]
    billing.answer(200, {"id": 17, "type": "PAYMENT", "amount": 131.5, "orderId": 5})

    assert remote.payment_take(**PAY) == Payment(PaymentOutcome.PAID, operation_id="17")
    assert billing.requests == [
        {
            "method": "POST",
            "path": "/billing/account/operate",
            "json": {"type": "PAYMENT", "amount": 131.5, "orderId": 5},
            "username": "alice",
            "idempotency_key": "order-5-payment",
        }
    ]


def test_whole_amounts_are_sent_as_integers(fake_clients):
    fake_clients["billing"].answer(200, {"id": 1})
    remote.payment_take(**{**PAY, "amount": Decimal("300.00")})
    assert fake_clients["billing"].requests[0]["json"]["amount"] == 300


def test_payment_declined_for_insufficient_funds(fake_clients):
    fake_clients["billing"].answer(402, {"code": "insufficient_funds", "detail": "balance 10"})
    payment = remote.payment_take(**PAY)
    assert (payment.outcome, payment.code) == (PaymentOutcome.DECLINED, "insufficient_funds")


@pytest.mark.parametrize(
    "status, code",
    [
        (400, "validation_error"),
        (404, "account_not_found"),
        (409, "payment_exists"),
        (422, "idempotency_key_reused"),
    ],
)
def test_other_refusals_reject_the_payment(fake_clients, status, code):
    fake_clients["billing"].answer(status, {"code": code, "detail": "refused"})
    payment = remote.payment_take(**PAY)
    assert payment == Payment(PaymentOutcome.REJECTED, code=code, detail="refused")


@pytest.mark.parametrize("status", [401, 403, 409, 429])
def test_answers_not_about_the_payment_mean_retry_later(fake_clients, status):
    fake_clients["billing"].answer(status, {"code": "request_in_progress"})
    with pytest.raises(DependencyUnavailable) as raised:
        remote.payment_take(**PAY)
    assert raised.value.service == "billing"


def test_unreachable_billing_propagates(fake_clients):
    fake_clients["billing"].answers.append(DependencyUnavailable("billing"))
    with pytest.raises(DependencyUnavailable):
        remote.payment_take(**PAY)


def operations(*items):
    return {"count": len(items), "next": None, "previous": None, "results": list(items)}


FIND = {"order_id": 5, "username": "alice", "amount": Decimal("131.50")}


def test_payment_find_asks_for_the_orders_operations(fake_clients):
    billing = fake_clients["billing"]
    billing.answer(200, operations({"id": 9, "type": "PAYMENT", "orderId": 5, "amount": 131.5}))
    assert remote.payment_find(**FIND) == "9"
    assert billing.requests == [
        {
            "method": "GET",
            "path": "/billing/account/operations",
            "params": {"orderId": 5},
            "username": "alice",
        }
    ]


@pytest.mark.parametrize(
    "status, data",
    [
        (200, operations()),
        (200, operations({"id": 3, "type": "DEPOSIT", "orderId": None})),
        (200, operations({"id": 4, "type": "PAYMENT", "orderId": 6, "amount": 131.5})),
        # Another order's payment under a reused id: not this order's.
        (200, operations({"id": 5, "type": "PAYMENT", "orderId": 5, "amount": 99})),
        (404, {"code": "account_not_found"}),
    ],
)
def test_payment_find_without_the_orders_payment(fake_clients, status, data):
    fake_clients["billing"].answer(status, data)
    assert remote.payment_find(**FIND) is None


@pytest.mark.parametrize(
    "status, data",
    [
        (200, None),
        (200, {"results": "none"}),
        (403, {}),
        (404, {"code": "not_found"}),
        (409, {"code": "request_in_progress"}),
        (400, {"code": "validation_error"}),
    ],
)
def test_payment_find_without_a_definite_answer_raises(fake_clients, status, data):
    fake_clients["billing"].answer(status, data)
    with pytest.raises(DependencyUnavailable):
        remote.payment_find(**FIND)


def test_payment_void_asks_billing_to_declare_the_payment_void(fake_clients):
    billing = fake_clients["billing"]
    billing.answer(200, {"orderId": 5, "state": "VOID", "payment": None})
    assert remote.payment_void(**FIND) is None
    assert billing.requests == [
        {
            "method": "POST",
            "path": "/billing/payment/void",
            "json": {"orderId": 5},
            "username": "alice",
            "idempotency_key": None,
        }
    ]


def test_payment_void_of_a_paid_order_answers_the_payment(fake_clients):
    payment = {"id": 9, "type": "PAYMENT", "orderId": 5, "amount": 131.5}
    fake_clients["billing"].answer(200, {"orderId": 5, "state": "PAID", "payment": payment})
    assert remote.payment_void(**FIND) == "9"


@pytest.mark.parametrize(
    "status, data",
    [(200, None), (200, {"state": "MAYBE"}), (403, {}), (400, {"code": "validation_error"})],
)
def test_payment_void_without_a_definite_answer_raises(fake_clients, status, data):
    fake_clients["billing"].answer(status, data)
    with pytest.raises(DependencyUnavailable):
        remote.payment_void(**FIND)


def test_payment_refused_as_void_is_its_own_outcome(fake_clients):
    fake_clients["billing"].answer(409, {"code": "payment_void", "detail": "cancelled"})
    payment = remote.payment_take(
        order_id=5, username="alice", amount=Decimal("131.50"), idempotency_key="order-5-payment"
    )
    assert payment.outcome == remote.PaymentOutcome.VOID


def test_profile_fetch(fake_clients):
    user = fake_clients["user"]
    user.answer(200, {"username": "alice", "email": "a@example.com", "phone": ""})
    assert remote.profile_fetch(username="alice") == Contact(email="a@example.com")
    assert user.requests[0]["path"] == "/api/v1/user/alice"
    assert user.requests[0]["username"] == "alice"


def test_profile_fetch_of_a_missing_profile_is_none(fake_clients):
    fake_clients["user"].answer(404, {"code": "not_found"})
    assert remote.profile_fetch(username="alice") is None


@pytest.mark.parametrize("status", [401, 403, 429])
def test_profile_fetch_refused_means_retry_later(fake_clients, status):
    fake_clients["user"].answer(status, {})
    with pytest.raises(DependencyUnavailable):
        remote.profile_fetch(username="alice")


NOTIFY = {
    "notification_type": "SUCCESS",
    "order_id": 5,
    "username": "alice",
    "text": "Your order #5 is paid.",
    "contact": Contact(email="a@example.com"),
    "idempotency_key": "order-5-notification-PAID",
}


def test_notification_request(fake_clients):
    notif = fake_clients["notif"]
    notif.answer(201, {"id": 1})
    assert remote.notification_send(**NOTIFY) is True
    assert notif.requests == [
        {
            "method": "POST",
            "path": "/api/v1/notification",
            "json": {
                "notificationType": "SUCCESS",
                "parentType": "ORDER",
                "parentId": 5,
                "username": "alice",
                "text": "Your order #5 is paid.",
                "contact": {"email": "a@example.com", "phone": None},
            },
            "username": "alice",
            "idempotency_key": "order-5-notification-PAID",
        }
    ]


def test_notification_created_earlier_with_other_contact_data_counts(fake_clients):
    fake_clients["notif"].answer(422, {"code": "idempotency_key_reused"})
    assert remote.notification_send(**NOTIFY) is True


def test_notification_refused_for_good_is_false(fake_clients):
    fake_clients["notif"].answer(400, {"code": "validation_error"})
    assert remote.notification_send(**NOTIFY) is False


def test_notification_conflict_other_than_in_progress_is_refused(fake_clients):
    fake_clients["notif"].answer(409, {"code": "conflict"})
    assert remote.notification_send(**NOTIFY) is False


@pytest.mark.parametrize("status", [401, 403, 409, 429])
def test_notification_not_handled_now_means_retry_later(fake_clients, status):
    fake_clients["notif"].answer(status, {"code": "request_in_progress"})
    with pytest.raises(DependencyUnavailable):
        remote.notification_send(**NOTIFY)


def test_unit_tests_cannot_reach_real_services():
    with pytest.raises(AssertionError, match="over HTTP"):
        remote.profile_fetch(username="alice")
