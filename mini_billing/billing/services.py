"""Writes: accounts and the operations that move their balances.

Every change of a balance is ONE conditional UPDATE of the account row plus the
operation row recording it, in one transaction. The condition in the UPDATE
(``balance >= amount`` for a debit) is what keeps a balance from going below
zero under any concurrency: the database evaluates it against the latest
committed balance while holding the row lock, so no read-then-write race exists.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Round
from django.utils import timezone

from billing.errors import BalanceLimitExceeded, InsufficientFunds, PaymentExists
from billing.models import MAX_BALANCE, Account, Operation
from billing.selectors import payment_for_order
from mini_common import metrics

logger = logging.getLogger("billing")


def account_create(*, username: str) -> tuple[Account, bool]:
    """Open the user's account, or return the existing one (``created`` is False).

    Race-safe: the unique username settles concurrent creations; the loser reads the winner's.
    """
    try:
        with transaction.atomic():
            return Account.objects.create(username=username), True
    except IntegrityError:
        return Account.objects.get(username=username), False


def operation_perform(
    *, account: Account, operation_type: str, amount: Decimal, order_id: int | None = None
) -> tuple[Operation, bool]:
    """Move money on ``account``; returns the operation and whether it was created now.

    A PAYMENT for an order that is already paid returns that payment (``created``
    False) when it is the same payment (same account, same amount), else raises
    PaymentExists. Raises InsufficientFunds (nothing changed) for a debit above
    the balance and BalanceLimitExceeded for a deposit past the column's limit.
    """
    if operation_type == Operation.Type.DEPOSIT:
        return _credit(account=account, amount=amount), True
    if operation_type == Operation.Type.WITHDRAWAL:
        return _debit(account=account, operation_type=operation_type, amount=amount), True
    if operation_type == Operation.Type.PAYMENT:
        if order_id is None:
            raise ValueError("A PAYMENT needs an order_id")
        return _pay(account=account, amount=amount, order_id=order_id)
    raise ValueError(f"Unknown operation type {operation_type!r}")


def _credit(*, account: Account, amount: Decimal) -> Operation:
    with transaction.atomic():
        moved = Account.objects.filter(pk=account.pk, balance__lte=MAX_BALANCE - amount).update(
            balance=_rounded(F("balance") + amount), updated_at=timezone.now()
        )
        if not moved:
            raise BalanceLimitExceeded(
                f"A deposit of {amount} would take the balance past {MAX_BALANCE}"
            )
        return _record(account=account, operation_type=Operation.Type.DEPOSIT, amount=amount)


def _debit(
    *, account: Account, operation_type: str, amount: Decimal, order_id: int | None = None
) -> Operation:
    with transaction.atomic():
        moved = Account.objects.filter(pk=account.pk, balance__gte=amount).update(
            balance=_rounded(F("balance") - amount), updated_at=timezone.now()
        )
        if not moved:
            metrics.billing_operation_observed(operation_type, "insufficient_funds")
            raise InsufficientFunds(f"The balance does not cover {amount}")
        return _record(
            account=account, operation_type=operation_type, amount=amount, order_id=order_id
        )


def _pay(*, account: Account, amount: Decimal, order_id: int) -> tuple[Operation, bool]:
    # No look-up first: the partial unique constraint on an order's PAYMENT decides.
    # A repeated request (rare: its Idempotency-Key replays the first answer) has
    # its debit rolled back with the refused insert, and finds the recorded payment.
    try:
        return _debit(
            account=account,
            operation_type=Operation.Type.PAYMENT,
            amount=amount,
            order_id=order_id,
        ), True
    except (IntegrityError, InsufficientFunds):
        # The order's payment exists (recorded before, or by a concurrent request),
        # or the balance is too low: perhaps because that very payment spent it.
        existing = payment_for_order(order_id=order_id)
        if existing is None:
            raise
    if existing.account_id != account.pk or existing.amount != amount:
        raise PaymentExists(
            f"Order {order_id} is already paid by another payment", extra={"orderId": order_id}
        )
    return existing, False


def _record(
    *, account: Account, operation_type: str, amount: Decimal, order_id: int | None = None
) -> Operation:
    # Still inside the transaction that moved the balance and holds the row lock,
    # so this reads exactly the balance our UPDATE produced.
    balance = Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get()
    operation = Operation.objects.create(
        account=account,
        type=operation_type,
        amount=amount,
        balance_after=balance,
        order_id=order_id,
    )
    account.balance = balance
    metrics.billing_operation_observed(operation_type)
    logger.info(
        "%s %s on account %s, balance now %s",
        operation_type,
        amount,
        account.username,
        balance,
        extra={"operation_id": operation.pk, "order_id": order_id},
    )
    return operation


def _rounded(expression):
    # Exact on PostgreSQL anyway; on SQLite, where the column holds a binary float,
    # rounding keeps every stored balance the float nearest its 2-place value, so
    # comparisons with amounts stay exact and no 1e-17 residue can go negative.
    return Round(expression, 2)
