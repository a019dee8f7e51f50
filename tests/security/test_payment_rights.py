"""What a user may never do is refused as such, before their body is judged."""

import pytest

from tests.support import assert_problem


@pytest.mark.parametrize(
    "body",
    [
        {"type": "PAYMENT", "amount": 5},  # no orderId: once a 400 asking for one
        {"type": "PAYMENT", "amount": -1},  # a bad amount: once a 400 about it
        {"type": "payment", "amount": 5, "orderId": 1},
    ],
)
def test_a_users_payment_is_a_403_whatever_else_the_body_says(alice, body):
    before = alice.balance()
    assert_problem(alice.api.post("/billing/account/operate", body), 403, "permission_denied")
    assert alice.balance() == before
