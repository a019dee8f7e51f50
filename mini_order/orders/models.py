from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property

from mini_common.models import ReconcileRunBase

MAX_POSITIONS = 100
MAX_QUANTITY = 10_000
# productId and shopId are positive integers (the IDL's types) that fit PostgreSQL's
# integer column.
MAX_PRODUCT_ID = 2_147_483_647
MAX_SHOP_ID = 2_147_483_647


class Order(models.Model):
    """An order and the recovery points of its remote steps.

    ``status`` records the payment step (NEW until mini_billing answered);
    ``notified_status`` the notification step: the status whose notification
    mini_notif accepted, blank until then. ``payment_voided``: mini_billing has
    recorded that this order's payment is void, so a CANCELLED order with it is
    never paid (one without it is checked by ``reconcile``). With
    ``idempotency_key`` and ``locked_until`` the row is also the record of the
    client's key.
    """

    class Status(models.TextChoices):
        NEW = "NEW"
        PAID = "PAID"
        INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
        CANCELLED = "CANCELLED"

    username = models.CharField(max_length=150)
    shop_id = models.IntegerField(null=True, blank=True)
    total_cost = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # The client's Idempotency-Key ("" without one): a retry of the same POST resumes this order.
    idempotency_key = models.CharField(max_length=255, blank=True)
    payment_operation_id = models.CharField(max_length=64, blank=True)
    notified_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    payment_voided = models.BooleanField(default=False)
    # The lease of the request working on the order: until then a retry with the
    # same key gets 409 request_in_progress. Null when no request is.
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_cost__gt=0), name="order_total_positive"),
            models.CheckConstraint(
                condition=Q(shop_id__isnull=True) | Q(shop_id__gte=1), name="order_shop_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["NEW", "PAID", "INSUFFICIENT_FUNDS", "CANCELLED"]),
                name="order_status_valid",
            ),
            models.UniqueConstraint(
                fields=["username", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_username_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
            models.Index(fields=["username", "-created_at"], name="order_user_created_idx"),
            models.Index(fields=["-created_at"], name="order_created_idx"),
            # Cancelled orders whose payment billing has not declared void yet: reconcile's.
            models.Index(
                fields=["created_at"],
                condition=Q(status="CANCELLED", payment_voided=False),
                name="order_void_pending_idx",
            ),
            # Final orders whose notification is still owed: what reconcile scans.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["PAID", "INSUFFICIENT_FUNDS"])
                & ~Q(notified_status=F("status")),
                name="order_notify_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} of {self.username}: {self.status}"

    @property
    def notified(self) -> bool:
        return bool(self.notified_status) and self.notified_status == self.status

    @cached_property
    def position_list(self) -> list["OrderPosition"]:
        """The positions, read once (from the prefetch when there is one).

        ``order_create`` sets it to the rows it inserted, so the answer to a new
        order needs no query to list them.
        """
        return list(self.positions.all())


class OrderPosition(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="positions")
    product_id = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product_id__gte=1), name="order_position_product_positive"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="order_position_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY),
                name="order_position_quantity_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id} at {self.price}"


class ReconcileRun(ReconcileRunBase):
    """mini_order's ``manage.py reconcile`` runs (see ``ReconcileRunBase``)."""
