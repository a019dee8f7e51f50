from decimal import Decimal

from django.db import models
from django.db.models import Q

# The largest value a NUMERIC(12, 2) column holds; a deposit may not push a balance past it.
MAX_BALANCE = Decimal("9999999999.99")
ZERO = Decimal("0.00")


class Account(models.Model):
    """A user's money. The balance moves only through the operations in ``services``."""

    username = models.CharField(max_length=150, unique=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="billing_account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance__lte=MAX_BALANCE), name="billing_account_balance_within_limit"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs) -> None:
        # Saving a loaded instance would write back the balance it was read with and
        # undo operations committed meanwhile: only services' conditional UPDATEs move it.
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None:
                kwargs["update_fields"] = [
                    field.name
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.name != "balance"
                ]
            elif "balance" in update_fields:
                raise ValueError("The balance changes only through billing.services")
        super().save(*args, **kwargs)


class ImmutableRowError(Exception):
    """An attempt to change or delete a recorded operation."""


class OperationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRowError("Operations are never updated")

    def delete(self):
        raise ImmutableRowError("Operations are never deleted")


class Operation(models.Model):
    """One immutable change of a balance; an account's balance is the sum of its operations."""

    class Type(models.TextChoices):
        DEPOSIT = "DEPOSIT"
        WITHDRAWAL = "WITHDRAWAL"
        PAYMENT = "PAYMENT"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="operations")
    type = models.CharField(max_length=16, choices=Type.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "-created_at", "-id"], name="billing_op_account_recent"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_operation_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="billing_operation_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(type__in=["DEPOSIT", "WITHDRAWAL", "PAYMENT"]),
                name="billing_operation_type_known",
            ),
            # Exactly the payments refer to an order (IS NOT NULL: a NULL check passes in SQL).
            models.CheckConstraint(
                condition=(Q(type="PAYMENT") & Q(order_id__isnull=False) & Q(order_id__gt=0))
                | (~Q(type="PAYMENT") & Q(order_id__isnull=True)),
                name="billing_operation_order_on_payments_only",
            ),
            # What makes "an order is paid at most once" true under any concurrency.
            models.UniqueConstraint(
                fields=["order_id"],
                condition=Q(type="PAYMENT"),
                name="billing_payment_once_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} on {self.account_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableRowError("Operations are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Operations are never deleted")


class PaymentVoid(models.Model):
    """An order's payment declared void: that order is cancelled and is never paid.

    mini_order records it before it cancels an unpaid order (``payment_void``),
    and a PAYMENT for the order that arrives later (a request that stalled
    in a worker) is refused with ``payment_void`` instead of taking money.
    """

    order_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"payment of order {self.order_id} void"
