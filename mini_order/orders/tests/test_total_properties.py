"""Property tests of the order total: exact, bounded, and checked against a given totalCost."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mini_common.errors import ValidationFailed
from mini_common.money import MAX_AMOUNT
from orders.errors import TotalMismatch
from orders.services import order_total_resolve

prices = st.integers(min_value=0, max_value=99_999_999_999).map(lambda cents: Decimal(cents) / 100)
positions = st.lists(
    st.fixed_dictionaries(
        {
            "product_id": st.integers(min_value=1, max_value=2**31 - 1),
            "price": prices,
            "quantity": st.integers(min_value=1, max_value=10_000),
        }
    ),
    min_size=1,
    max_size=100,
)


def exact_sum(items) -> Decimal:
    """The total in whole cents, computed without Decimal contexts: the reference."""
    cents = sum(int(item["price"] * 100) * item["quantity"] for item in items)
    return Decimal(cents) / 100


@given(positions)
def test_total_is_the_exact_sum_or_a_clear_refusal(items):
    expected = exact_sum(items)
    if expected > MAX_AMOUNT or expected <= 0:
        with pytest.raises(ValidationFailed):
            order_total_resolve(positions=items, total_cost=None)
        return
    total = order_total_resolve(positions=items, total_cost=None)
    assert total == expected
    assert total == total.quantize(Decimal("0.01"))


@given(positions)
def test_the_same_total_given_is_accepted(items):
    expected = exact_sum(items)
    if 0 < expected <= MAX_AMOUNT:
        assert order_total_resolve(positions=items, total_cost=expected) == expected


@given(positions, st.integers(min_value=1, max_value=10_000))
def test_any_other_total_given_is_a_mismatch(items, cents_off):
    expected = exact_sum(items)
    if 0 < expected <= MAX_AMOUNT:
        with pytest.raises(TotalMismatch):
            order_total_resolve(positions=items, total_cost=expected + Decimal(cents_off) / 100)
