"""A client's Idempotency-Key never takes the scope of a key a service derives (issue 15).

mini_order pays order N under the key ``order-N-payment``. Before the calling
service was part of a key's scope, a user could send that key first to
``POST /billing/account/operate``: mini_order's payment then met the user's
stored answer (a DEPOSIT: 422 ``idempotency_key_reused``, the order refused with
``payment_rejected``; the user's own PAYMENT body: the replayed 403, the order
left NEW).
"""

import pytest

from tests.support import register_user

POSITIONS = [{"productId": 1, "price": 30, "quantity": 1}]
TOTAL = 30
AHEAD = 5  # the next order ids taken over: other orders may be placed meanwhile


def deposit(order_id: int) -> dict:
    return {"type": "DEPOSIT", "amount": 1}


def payment_as_mini_order_sends_it(order_id: int) -> dict:
    return {"type": "PAYMENT", "amount": TOTAL, "orderId": order_id}


@pytest.mark.parametrize(
    "attack, answered",
    [
        (deposit, 200),  # the user's own DEPOSIT, done
        (payment_as_mini_order_sends_it, 403),  # a user's PAYMENT: 403 before validation
    ],
)
def test_a_users_key_named_like_an_orders_payment_leaves_the_order_alone(gateway, attack, answered):
    user = register_user(gateway, balance=100, prefix="scope")
    first = user.order(POSITIONS)
    assert first.status_code == 201, first.text
    next_ids = range(first.json()["id"] + 1, first.json()["id"] + 1 + AHEAD)

    for order_id in next_ids:
        key = {"Idempotency-Key": f"order-{order_id}-payment"}
        sent = user.api.post("/billing/account/operate", attack(order_id), headers=key)
        assert sent.status_code == answered, sent.text
        again = user.api.post("/billing/account/operate", attack(order_id), headers=key)
        assert again.headers.get("Idempotent-Replayed") == "true", "the user's own key replays"
    balance = user.balance()

    order = user.order(POSITIONS)

    assert order.status_code == 201, order.text
    assert order.json()["id"] in next_ids, "the order got an id the user had not taken over"
    assert order.json()["status"] == "PAID"
    assert user.balance() == balance - TOTAL
