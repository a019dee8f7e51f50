"""Writes: accounts and the operations that move their balances.

Every change of a balance is ONE conditional UPDATE of the account row plus the
operation row recording it, in one transaction. The condition in the UPDATE
(``balance >= amount`` for a debit) is what keeps a balance from going below
zero under any concurrency: the database evaluates it against the latest
committed balance while holding the row lock, so no read-then-write race exists.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from billing.errors import (
    AccountNotFound,
    BalanceLimitExceeded,
    InsufficientFunds,
    PaymentExists,
    PaymentVoided,
)
from billing.models import MAX_BALANCE, ZERO, Account, Operation, PaymentVoid
from billing.selectors import payment_for_order
from mini_common import metrics
from mini_common.money import CENT

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
    *, username: str, operation_type: str, amount: Decimal, order_id: int | None = None
) -> tuple[Operation, bool]:
    """Move money on ``username``'s account; returns the operation and whether it was created now.

    A PAYMENT for an order that is already paid returns that payment (``created``
    False) when it is the same payment (same account, same amount), else raises
    PaymentExists. Raises AccountNotFound, InsufficientFunds (nothing changed)
    for a debit above the balance and BalanceLimitExceeded for a deposit past
    the column's limit.
    """
    if operation_type == Operation.Type.DEPOSIT:
        return _credit(username=username, amount=amount), True
    if operation_type == Operation.Type.WITHDRAWAL:
        return _debit(username=username, operation_type=operation_type, amount=amount), True
    if operation_type == Operation.Type.PAYMENT:
        if order_id is None:
            raise ValueError("A PAYMENT needs an order_id")
        return _pay(username=username, amount=amount, order_id=order_id)
    raise ValueError(f"Unknown operation type {operation_type!r}")


def _credit(*, username: str, amount: Decimal) -> Operation:
    with transaction.atomic():
        moved = _balance_moved(
            username=username, by=amount, lowest=ZERO, highest=MAX_BALANCE - amount
        )
        if moved is not None:
            return _record(moved, operation_type=Operation.Type.DEPOSIT, amount=amount)
    # Raised outside the block: nothing was written, and a caller's transaction stays usable.
    _account_must_exist(username)
    raise BalanceLimitExceeded(f"A deposit of {amount} would take the balance past {MAX_BALANCE}")


def _debit(
    *, username: str, operation_type: str, amount: Decimal, order_id: int | None = None
) -> Operation:
    with transaction.atomic():
        moved = _balance_moved(username=username, by=-amount, lowest=amount, highest=MAX_BALANCE)
        if moved is not None:
            if order_id is not None and PaymentVoid.objects.filter(order_id=order_id).exists():
                # Read while the UPDATE holds the account row (see payment_void): raised
                # inside the block, so the debit above is rolled back with it.
                raise PaymentVoided(
                    f"Order {order_id} was cancelled; its payment is void",
                    extra={"orderId": order_id},
                )
            return _record(moved, operation_type=operation_type, amount=amount, order_id=order_id)
    _account_must_exist(username)
    transaction.on_commit(
        lambda: metrics.billing_operation_observed(operation_type, "insufficient_funds")
    )
    raise InsufficientFunds(f"The balance does not cover {amount}")


def _account_must_exist(username: str) -> None:
    """Why a conditional UPDATE moved nothing: no account at all, or its condition."""
    if not Account.objects.filter(username=username).exists():
        raise AccountNotFound(f"No account for {username!r}")


@dataclass(frozen=True)
class _Moved:
    account_id: int
    username: str
    balance: Decimal


def _balance_moved(
    *, username: str, by: Decimal, lowest: Decimal, highest: Decimal
) -> _Moved | None:
    """Add ``by`` to the balance if it lies within [lowest, highest]; the new balance, or None.

    One conditional UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35), found by
    the unique username, with no read before it (None: no account, or the
    condition failed): the database checks the condition against the latest
    committed balance while it holds the row lock, and answers the account and
    the balance it wrote. The ORM's update() cannot return values, hence the SQL.
    """
    table = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = ROUND(balance + %s, 2), updated_at = %s "  # noqa: S608
            "WHERE username = %s AND balance >= %s AND balance <= %s RETURNING id, balance",
            [by, timezone.now(), username, lowest, highest],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # ROUND keeps SQLite's binary-float column at the float nearest each 2-place
    # value (exact on PostgreSQL anyway), and SQLite answers that float: back to cents.
    return _Moved(row[0], username, Decimal(str(row[1])).quantize(CENT))


def _pay(*, username: str, amount: Decimal, order_id: int) -> tuple[Operation, bool]:
    # No look-up first: the partial unique constraint on an order's PAYMENT decides.
    # A repeated request (rare: its Idempotency-Key replays the first answer) has
    # its debit rolled back with the refused insert, and finds the recorded payment.
    try:
        return _debit(
            username=username,
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
    if existing.account.username != username or existing.amount != amount:
        raise PaymentExists(
            f"Order {order_id} is already paid by another payment", extra={"orderId": order_id}
        )
    return existing, False


def payment_void(*, username: str, order_id: int) -> Operation | PaymentVoid:
    """Declare the order's payment void, unless it happened: the payment, or the void.

    What makes "a cancelled order is never paid" hold by construction. A PAYMENT
    checks for the void after its UPDATE has locked the account row; this takes
    the same row lock (a no-op UPDATE, which also takes SQLite's write lock)
    before it looks for the payment. So the two are ordered by that lock: the
    payment committed first is found here, and a void committed first is found
    by the payment, which then rolls back. Repeating it answers the same.
    """
    with transaction.atomic():
        Account.objects.filter(username=username).update(updated_at=F("updated_at"))
        payment = payment_for_order(order_id=order_id)
        if payment is not None:
            return payment
        void, created = PaymentVoid.objects.get_or_create(
            order_id=order_id, defaults={"username": username}
        )
    if created:
        logger.info("payment of order %s declared void", order_id, extra={"order_id": order_id})
    return void


def _record(
    moved: _Moved, *, operation_type: str, amount: Decimal, order_id: int | None = None
) -> Operation:
    # In the transaction that moved the balance, holding the row lock.
    operation = Operation.objects.create(
        account_id=moved.account_id,
        type=operation_type,
        amount=amount,
        balance_after=moved.balance,
        order_id=order_id,
    )
    # Once committed: a payment refused after this insert (its order's payment void,
    # or already recorded) is rolled back, and must leave no log line or metric.
    transaction.on_commit(lambda: _recorded(operation, moved))
    return operation


def _recorded(operation: Operation, moved: _Moved) -> None:
    metrics.billing_operation_observed(operation.type)
    logger.info(
        "%s %s on account %s, balance now %s",
        operation.type,
        operation.amount,
        moved.username,
        moved.balance,
        extra={"operation_id": operation.pk, "order_id": operation.order_id},
    )
