"""Reads for the cross-service audit (`manage_all.py audit`): the facts mini_billing owns.

Aggregated in SQL and read as plain rows in chunks, never as model instances,
so tens of thousands of accounts and payments stay cheap. Amounts are exact
decimal strings: the audit compares them, and JSON numbers would be floats.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, Sum, Value, When
from django.db.models.functions import Coalesce

from billing.models import ZERO, Account, Operation
from mini_common.money import CENT

CHUNK_SIZE = 2000
_MONEY = DecimalField(max_digits=20, decimal_places=2)


def _money(value: Decimal) -> str:
    # Rounded to cents: SQLite sums its decimal column as floats.
    return str(value.quantize(CENT))


def account_totals_export() -> Iterator[dict[str, Any]]:
    """Every account's balance next to the signed sum of its operations, in one grouped query."""
    signed_amount = Case(
        When(operations__type=Operation.Type.DEPOSIT, then=F("operations__amount")),
        default=-F("operations__amount"),  # WITHDRAWAL and PAYMENT; NULL without operations
        output_field=_MONEY,
    )
    rows = (
        Account.objects.order_by("pk")
        .annotate(
            operations_total=Coalesce(Sum(signed_amount), Value(ZERO), output_field=_MONEY),
            operation_count=Count("operations"),
        )
        .values_list("username", "balance", "operations_total", "operation_count")
    )
    for username, balance, total, count in rows.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "username": username,
            "balance": _money(balance),
            "operationsTotal": _money(total),
            "operations": count,
        }


def payment_export() -> Iterator[dict[str, Any]]:
    """Every PAYMENT: the order it pays, whose account it is on, how much."""
    rows = (
        Operation.objects.filter(type=Operation.Type.PAYMENT)
        .order_by("order_id", "pk")
        .values_list("pk", "order_id", "account__username", "amount")
    )
    for pk, order_id, username, amount in rows.iterator(chunk_size=CHUNK_SIZE):
        yield {"id": pk, "orderId": order_id, "username": username, "amount": _money(amount)}
