"""Reads for `manage_all.py story`: what mini_billing knows about one order or one user.

Rows are given whole, every column under its camelCase name, read from the
model's own fields: a column added later shows up without a change here, and
one that goes away is simply not there. The ``audit`` part has the rows of
`audit_export` (billing/audit.py), restricted to the order or the user, so the
tool can check the audit's invariants for them alone.
"""

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, Count, DecimalField, F, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from billing.models import ZERO, Account, Operation, PaymentVoid
from mini_common.money import CENT
from mini_common.story import record

SERVICE = "mini_billing"
# The Idempotency-Key under which mini_order asks for an order's payment
# (orders/services.py, payment_key): billing's stored answer under it is its
# only record of a payment it refused (402 insufficient_funds), kept for
# MINI_IDEMPOTENCY_TTL.
PAYMENT_KEY = "order-{order_id}-payment"
PAYMENT_CALLER = "mini_order"
PAYMENT_PATH = "/billing/account/operate"
_MONEY = DecimalField(max_digits=20, decimal_places=2)


def _money(value: Decimal) -> str:
    # Rounded to cents like billing/audit.py: SQLite sums its decimal column as floats.
    return str(value.quantize(CENT))


def _operation_record(operation: Operation) -> dict[str, Any]:
    row = record(operation)
    row["username"] = operation.account.username
    return row


def _payment_audit_row(operation: Operation) -> dict[str, Any]:
    """A PAYMENT as `audit_export` gives it (billing/audit.py, payment_export)."""
    return {
        "id": operation.pk,
        "orderId": operation.order_id,
        "username": operation.account.username,
        "amount": _money(operation.amount),
    }


def _account_audit_row(account: Account) -> dict[str, Any]:
    """The account as `audit_export` gives it (billing/audit.py, account_totals_export)."""
    signed_amount = Case(
        When(type=Operation.Type.DEPOSIT, then=F("amount")),
        default=-F("amount"),  # WITHDRAWAL and PAYMENT
        output_field=_MONEY,
    )
    totals = Operation.objects.filter(account=account).aggregate(
        total=Coalesce(Sum(signed_amount), Value(ZERO), output_field=_MONEY), count=Count("pk")
    )
    return {
        "username": account.username,
        "balance": _money(account.balance),
        "operationsTotal": _money(totals["total"]),
        "operations": totals["count"],
    }


def _payment_requests(**filters: Any) -> QuerySet | None:
    """billing's stored answers to mini_order's payment requests, while it keeps them."""
    try:
        model = apps.get_model("mini_common", "IdempotencyRecord")
        for name in ("key", "service", "path", "username", "response_status"):
            model._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return None  # the key store changed shape: the story goes on without it
    return model.objects.filter(service=PAYMENT_CALLER, path=PAYMENT_PATH, **filters)


def _records(rows: QuerySet | None, *, order: str, limit: int | None = None) -> list[dict]:
    if rows is None:
        return []
    rows = rows.order_by(order)
    if limit is not None:
        rows = rows[:limit]
    return [record(row, leave_out=("fingerprint",)) for row in rows]


def order_story(*, order_id: int) -> dict[str, Any]:
    """The order's PAYMENT (if any), its payment declared void (if it was), billing's answers."""
    payments = list(
        Operation.objects.select_related("account").filter(order_id=order_id).order_by("pk")
    )
    voids = PaymentVoid.objects.filter(order_id=order_id).order_by("pk")
    return {
        "service": SERVICE,
        "payments": [_operation_record(payment) for payment in payments],
        "voids": [record(void) for void in voids],
        "paymentRequests": _records(
            _payment_requests(key=PAYMENT_KEY.format(order_id=order_id)), order="pk"
        ),
        "audit": {
            "payments": [
                _payment_audit_row(p) for p in payments if p.type == Operation.Type.PAYMENT
            ]
        },
    }


def user_story(*, username: str, limit: int) -> dict[str, Any]:
    """The account, its newest ``limit`` operations, voided payments and refused payments.

    The audit rows: the account's balance beside the sum of its operations, and
    every PAYMENT on it.
    """
    account = Account.objects.filter(username=username).first()
    voids = PaymentVoid.objects.filter(username=username).order_by("-created_at", "-id")[:limit]
    refusals = _payment_requests(username=username, response_status__gte=300)
    refused = _records(refusals, order="-pk", limit=limit)
    if account is None:
        return {
            "service": SERVICE,
            "account": None,
            "operations": [],
            "operationsTotal": 0,
            "voids": [record(void) for void in voids],
            "refusedPayments": refused,
            "audit": {"accounts": [], "payments": []},
        }
    operations = Operation.objects.select_related("account").filter(account=account)
    payments = operations.filter(type=Operation.Type.PAYMENT).order_by("order_id", "pk")
    return {
        "service": SERVICE,
        "account": record(account),
        "operations": [
            _operation_record(operation)
            for operation in operations.order_by("-created_at", "-id")[:limit]
        ],
        "operationsTotal": operations.count(),
        "voids": [record(void) for void in voids],
        "refusedPayments": refused,
        "audit": {
            "accounts": [_account_audit_row(account)],
            "payments": [_payment_audit_row(payment) for payment in payments],
        },
    }
