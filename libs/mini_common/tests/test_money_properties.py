"""Properties of exact money (hypothesis): what parse_money accepts is exactly the
amounts API.md allows, and money_json loses nothing on the way out."""

import json
from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from mini_common.money import CENT, MAX_AMOUNT, MoneyError, money_json, parse_money

CENTS_MAX = int(MAX_AMOUNT * 100)

cents = st.integers(min_value=1, max_value=CENTS_MAX)
valid_amounts = cents.map(lambda n: Decimal(n) / 100)


@given(valid_amounts)
@example(Decimal("0.01"))
@example(MAX_AMOUNT)
def test_every_valid_amount_parses_to_itself_in_any_accepted_form(amount):
    forms = [amount, str(amount), f" {amount} ", format(amount, "f"), f"+{amount}"]
    if amount == amount.to_integral_value():
        forms.append(int(amount))
    for form in forms:
        parsed = parse_money(form)
        assert parsed == amount
        assert parsed.as_tuple().exponent == -2  # always two places


@given(valid_amounts)
def test_json_round_trip_is_exact(amount):
    """money_json -> JSON text -> a client's number -> parse_money gives the same amount."""
    sent = json.dumps({"amount": money_json(amount)})
    received = json.loads(sent)["amount"]
    assert parse_money(received) == amount
    # Whole amounts are JSON integers, the others the shortest exact decimal.
    if amount == amount.to_integral_value():
        assert isinstance(received, int)
    else:
        assert Decimal(repr(received)) == amount.normalize()


@given(valid_amounts)
def test_float_inputs_mean_their_shortest_decimal_text(amount):
    assert parse_money(float(amount)) == amount


@given(
    st.integers(min_value=0, max_value=CENTS_MAX),
    st.integers(min_value=3, max_value=12),
    st.integers(min_value=1, max_value=9),
)
def test_more_than_two_decimals_are_never_accepted(whole_cents, places, last_digit):
    """A non-zero digit beyond the second decimal place is refused, however it is written."""
    text = f"{whole_cents // 100}.{whole_cents % 100:02d}" + "0" * (places - 3) + str(last_digit)
    for form in (text, Decimal(text)):
        with pytest.raises(MoneyError):
            parse_money(form)


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_any_decimal_is_either_a_valid_amount_or_refused(value):
    try:
        parsed = parse_money(value)
    except MoneyError:
        assert (
            not value.is_finite()
            or value <= 0
            or value > MAX_AMOUNT
            or value != value.quantize(CENT, rounding="ROUND_DOWN")
        )
    else:
        assert value.is_finite() and 0 < value <= MAX_AMOUNT
        assert parsed == value and parsed.as_tuple().exponent == -2


@given(st.integers(min_value=CENTS_MAX + 1, max_value=10**30))
def test_amounts_above_the_maximum_are_refused(too_many_cents):
    with pytest.raises(MoneyError):
        parse_money(Decimal(too_many_cents) / 100)


@given(st.integers(max_value=0))
def test_zero_and_negative_amounts_are_refused(value):
    for form in (value, str(value), Decimal(value) / 100):
        with pytest.raises(MoneyError):
            parse_money(form)


@given(
    st.one_of(
        st.text(),
        st.booleans(),
        st.none(),
        st.lists(st.integers()),
        st.dictionaries(st.text(), st.integers()),
        st.floats(),
    )
)
def test_arbitrary_input_is_an_amount_or_a_money_error_never_anything_else(value):
    try:
        parsed = parse_money(value)
    except MoneyError:
        return
    assert isinstance(parsed, Decimal) and 0 < parsed <= MAX_AMOUNT
    assert parsed == parsed.quantize(CENT)


@given(st.text(alphabet="0123456789.+-eE_ \t\u0660\u06f1\uff11", max_size=20))
def test_numeric_strings_are_plain_ascii_decimals(text):
    """No exponents, underscores or non-ASCII digits (Decimal itself would take them)."""
    try:
        parse_money(text)
    except MoneyError:
        return
    stripped = text.strip()
    assume(stripped)
    assert all(ch in "0123456789.+-" for ch in stripped)
