from decimal import Decimal

import pytest

from mini_common.money import MoneyError, money_json, parse_money


@pytest.mark.parametrize(
    "raw, expected",
    [
        (150, Decimal("150.00")),
        ("150", Decimal("150.00")),
        (" 131.5 ", Decimal("131.50")),
        (Decimal("0.01"), Decimal("0.01")),
        (0.1, Decimal("0.10")),
        ("1.000", Decimal("1.00")),
        ("999999999.99", Decimal("999999999.99")),
    ],
)
def test_accepts_numbers_and_numeric_strings(raw, expected):
    assert parse_money(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        True,
        None,
        "",
        "abc",
        "1e3",
        "NaN",
        Decimal("NaN"),
        Decimal("Infinity"),
        float("inf"),
        [],
        {},
        "12.345",
        Decimal("0.001"),
        0,
        "0",
        -1,
        "-0.01",
        "1000000000",
        Decimal("1E+400"),
    ],
)
def test_refuses_what_is_not_a_positive_two_place_amount(raw):
    with pytest.raises(MoneyError):
        parse_money(raw)


def test_zero_allowed_only_when_asked():
    assert parse_money(0, allow_zero=True) == Decimal("0.00")
    with pytest.raises(MoneyError):
        parse_money(-1, allow_zero=True)


@pytest.mark.parametrize(
    "amount, expected",
    [(Decimal("150.00"), 150), (Decimal("131.50"), 131.5), (Decimal("999999999.99"), 999999999.99)],
)
def test_json_numbers(amount, expected):
    value = money_json(amount)
    assert value == expected
    assert type(value) is type(expected)
