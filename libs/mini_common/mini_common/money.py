"""Exact money: parsing and JSON representation of amounts.

Amounts are Decimals with two places. Requests may send a JSON number or a
numeric string; responses send JSON numbers (``150``, ``131.5``).
"""

import re
from decimal import Decimal

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
_NUMERIC_STRING = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")  # ASCII digits only


class MoneyError(ValueError):
    pass


def parse_money(value: object, *, allow_zero: bool = False) -> Decimal:
    """Turn a request value into an exact amount, or raise MoneyError saying why."""
    if isinstance(value, bool) or value is None:
        raise MoneyError("Must be a number.")
    if isinstance(value, str):
        text = value.strip()
        if not _NUMERIC_STRING.match(text):
            raise MoneyError("Must be a number.")
        amount = Decimal(text)
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # the shortest text that round-trips, not the binary value
    else:
        raise MoneyError("Must be a number.")

    if not amount.is_finite():
        raise MoneyError("Must be a finite number.")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise MoneyError("Must be zero or more." if allow_zero else "Must be greater than zero.")
    if amount > MAX_AMOUNT:
        raise MoneyError(f"Must not exceed {MAX_AMOUNT}.")
    if amount != amount.quantize(CENT):
        raise MoneyError("Must have at most 2 decimal places.")
    return amount.quantize(CENT)


def money_json(amount: Decimal) -> int | float:
    """The JSON number for an amount: ``150`` for whole amounts, ``131.5`` otherwise.

    Safe as a float: amounts have at most 11 significant digits, and Python
    prints the shortest text that round-trips, so the digits are exact.
    """
    amount = amount.quantize(CENT)
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)
