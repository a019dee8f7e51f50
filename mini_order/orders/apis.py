from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.errors import PermissionDenied
from mini_common.failfast import fail_fast
from mini_common.fields import (
    EnumField,
    MoneyField,
    StrictCharField,
    StrictIntegerField,
    UsernameField,
)
from mini_common.idempotency import mark_replayed, request_key
from mini_common.pagination import StandardPagination
from mini_common.schema import IDEMPOTENCY_KEY, PAGE_PARAMETERS, page_of, problem_responses
from mini_common.serializers import QuerySerializer, Serializer
from orders.models import MAX_POSITIONS, MAX_PRODUCT_ID, MAX_QUANTITY, MAX_SHOP_ID, Order
from orders.remote import BILLING
from orders.selectors import order_get, order_list
from orders.services import order_place

CREATE_DESCRIPTION = """\
Creates the order NEW, takes its payment from the caller's account in mini_billing
(Idempotency-Key `order-<id>-payment`: at most once), then notifies the user through
mini_notif. Answers 201 with the final status: `PAID`, or `INSUFFICIENT_FUNDS` when the
balance is too low (nothing is taken). A notification that cannot be sent now is sent
later by `manage.py reconcile`; the answer is still 201.

Input: `orderPositions` holds 1-100 positions; `productId` is a JSON integer
1-2147483647; `price` is money >= 0 (number or numeric string, at most 2 decimals);
`quantity` is a JSON integer 1-10000 (strings, booleans and fractions are refused).
`shopId` is an optional integer 1-2147483647 (null = absent). A string of decimal digits
is accepted for any of these integers and answered as the number. `totalCost`
(null = absent) defaults to the sum of price x quantity, which must be > 0 and at most
999999999.99 (400); a different `totalCost` is a 422 `total_mismatch` with
`expectedTotalCost`. `username`, if given, must be the caller, admins included (403).
`id`, `status`, `createdAt` and `updatedAt` (an order's read-only fields) are accepted and
ignored; any other unknown field, here or in a position, is a 400 that names it.

Failures: 503 `dependency_unavailable` with `Retry-After` while mini_billing's circuit is
open: answered at once, before anything is saved (no order, no key used). 503 with
`Retry-After` and `orderId` when mini_billing cannot answer this order's payment: the
order stays NEW, and the same request with the same Idempotency-Key
resumes it (without a key, `reconcile` cancels it after the retry window, or marks it
PAID if the payment did reach mini_billing). 422 `payment_rejected` with `orderId` and
`billingCode` when mini_billing refuses the payment for another reason than the balance
(e.g. the caller has no account): the order is CANCELLED and nothing was taken. 409
`order_cancelled` when a retry finds its order cancelled.

Idempotency-Key: the order row is the key's record. The same key again answers the
order (`Idempotent-Replayed: true` when an earlier request finished it), finishing a
NEW one; while the first request still works on it, 409 `request_in_progress`.
"""

LIST_DESCRIPTION = """\
The caller's orders, newest first (admins: everyone's, `?username=` picks one user's;
for others `?username=` only narrows their own). `?status=` filters, any case.
"""


class PositionInputSerializer(Serializer):
    productId = StrictIntegerField(source="product_id", min_value=1, max_value=MAX_PRODUCT_ID)
    price = MoneyField(allow_zero=True)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class PositionOutputSerializer(Serializer):
    productId = serializers.IntegerField(source="product_id")
    price = MoneyField()
    quantity = serializers.IntegerField()


class OrderOutputSerializer(Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    shopId = serializers.IntegerField(source="shop_id", allow_null=True)
    orderPositions = PositionOutputSerializer(source="position_list", many=True)
    totalCost = MoneyField(source="total_cost")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class OrderApi(APIView):
    """``/api/v1/order``: POST places an order, GET lists orders (one URL, two operations)."""

    class InputSerializer(Serializer):
        class Meta:
            ref_name = "OrderCreate"  # the OpenAPI component's name

        # API.md: the course's client sends the order back with these; they are ignored.
        ignored_fields = ("id", "status", "createdAt", "updatedAt")
        orderPositions = PositionInputSerializer(
            source="positions", many=True, allow_empty=False, max_length=MAX_POSITIONS
        )
        shopId = StrictIntegerField(
            source="shop_id",
            min_value=1,
            max_value=MAX_SHOP_ID,
            required=False,
            allow_null=True,
            default=None,
        )
        totalCost = MoneyField(source="total_cost", required=False, allow_null=True, default=None)
        username = StrictCharField(max_length=150, required=False, allow_null=True, default=None)

    class FilterSerializer(QuerySerializer):
        username = UsernameField(required=False)
        status = EnumField(choices=Order.Status.values, required=False)

    @extend_schema(
        operation_id="order_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OrderOutputSerializer,
            **problem_responses(
                {
                    400: "validation_error / malformed_request",
                    403: "permission_denied: username is not the caller",
                    409: "order_cancelled / request_in_progress",
                    422: "total_mismatch / payment_rejected / idempotency_key_reused",
                    503: "dependency_unavailable, with orderId",
                }
            ),
        },
        description=CREATE_DESCRIPTION,
    )
    @fail_fast(BILLING)
    def post(self, request):
        # The order row is the key's record (orders.services): no separate one.
        key = request_key(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["username"] is not None and data["username"] != request.user.username:
            raise PermissionDenied("username must be the caller's own")
        order, replayed = order_place(
            username=request.user.username,
            positions=data["positions"],
            total_cost=data["total_cost"],
            shop_id=data["shop_id"],
            idempotency_key=key,
        )
        response = Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED)
        return mark_replayed(request, response) if replayed else response

    @extend_schema(
        operation_id="order_list",
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: page_of(OrderOutputSerializer, name="OrderPage"),
            **problem_responses(
                {
                    400: "validation_error: unknown status or invalid username",
                    404: "not_found: a page past the end",
                }
            ),
        },
        description=LIST_DESCRIPTION,
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = order_list(viewer=request.user, **filters.validated_data)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOutputSerializer(page, many=True).data)


class OrderDetailApi(APIView):
    @extend_schema(
        operation_id="order_get",
        responses={200: OrderOutputSerializer, **problem_responses({404: "not_found"})},
        description="The order, for its owner or an admin; anyone else's order is a 404.",
    )
    def get(self, request, order_id: int):
        return Response(
            OrderOutputSerializer(order_get(order_id=order_id, viewer=request.user)).data
        )
