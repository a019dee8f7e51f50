"""Reads: accounts, their operations, and the consistency audit of the ledger."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.errors import AccountNotFound
from billing.models import ZERO, Account, Operation
from mini_common.auth import GatewayUser, can_see
from mini_common.errors import PermissionDenied, ValidationFailed
from mini_common.money import CENT

RECENT_OPERATIONS = 50


def account_get(*, username: str) -> Account:
    account = Account.objects.filter(username=username).first()
    if account is None:
        raise AccountNotFound(f"No account for {username!r}")
    return account


def account_get_with_recent_operations(*, username: str, limit: int = RECENT_OPERATIONS) -> Account:
    """The account with its latest ``limit`` operations, newest first, in ``recent_operations``."""
    recent = Operation.objects.order_by("-created_at", "-id")[:limit]
    account = (
        Account.objects.filter(username=username)
        .prefetch_related(Prefetch("operations", queryset=recent, to_attr="recent_operations"))
        .first()
    )
    if account is None:
        raise AccountNotFound(f"No account for {username!r}")
    return account


def account_username_for_operation(*, caller: GatewayUser, username: str | None) -> str:
    """The user whose account ``caller`` may move money on: their own, or the one they name.

    Whether that account exists is for the money move to find (AccountNotFound).

    Naming another user's account is a 403 for end users, whether that account
    exists or not (so it reveals nothing); admins and internal callers, who may
    act for anyone, may name any account.
    """
    target = username or caller.username
    if not target:
        raise ValidationFailed(
            "Name the account: X-Username or account.username",
            errors={"account": ["Required when the request carries no X-Username."]},
        )
    if not can_see(caller, target):
        raise PermissionDenied("You may only operate on your own account")
    return target


def operation_list(
    *, account: Account, order_id: int | None = None, operation_type: str | None = None
) -> QuerySet[Operation]:
    operations = Operation.objects.filter(account=account)
    if order_id is not None:
        operations = operations.filter(order_id=order_id)
    if operation_type:
        operations = operations.filter(type=operation_type)
    return operations.order_by("-created_at", "-id")


def payment_for_order(*, order_id: int) -> Operation | None:
    # Served by the partial unique index (type = PAYMENT, order_id).
    return Operation.objects.filter(type=Operation.Type.PAYMENT, order_id=order_id).first()


# --- Audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditProblem:
    username: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.username}: {self.code}: {self.detail}"


def account_check(
    *,
    username: str,
    balance: Decimal,
    operations_total: Decimal,
    last_balance_after: Decimal | None,
) -> list[AuditProblem]:
    """The invariants of one account, given its balance and what its operations add up to."""
    problems = []
    if balance < 0:
        problems.append(AuditProblem(username, "negative_balance", f"balance is {balance}"))
    if balance != operations_total:
        problems.append(
            AuditProblem(
                username,
                "balance_mismatch",
                f"balance {balance} != sum of operations {operations_total}",
            )
        )
    if last_balance_after is not None and last_balance_after != balance:
        problems.append(
            AuditProblem(
                username,
                "last_operation_mismatch",
                f"balance {balance} != balance after the latest operation {last_balance_after}",
            )
        )
    return problems


def account_audit() -> Iterator[AuditProblem]:
    """Every account whose balance is negative or differs from the sum of its operations."""
    money = DecimalField(max_digits=20, decimal_places=2)
    signed_amount = Case(
        When(type=Operation.Type.DEPOSIT, then=F("amount")),
        default=-F("amount"),
        output_field=money,
    )
    totals = (
        Operation.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum(signed_amount))
        .values("total")
    )
    latest = Operation.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-id")
    accounts = (
        Account.objects.order_by("pk")
        .annotate(
            operations_total=Coalesce(Subquery(totals), Value(ZERO), output_field=money),
            last_balance_after=Subquery(latest.values("balance_after")[:1], output_field=money),
        )
        .values_list("username", "balance", "operations_total", "last_balance_after")
    )
    # Compared in Python as Decimals rounded to cents: SQLite sums its float column inexactly.
    for username, balance, total, last in accounts.iterator(chunk_size=1000):
        yield from account_check(
            username=username,
            balance=balance.quantize(CENT),
            operations_total=total.quantize(CENT),
            last_balance_after=None if last is None else last.quantize(CENT),
        )
