from collections.abc import Mapping

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import Operation
from billing.selectors import (
    RECENT_OPERATIONS,
    account_get,
    account_get_with_recent_operations,
    account_username_for_operation,
    operation_list,
)
from billing.services import account_create, operation_perform, payment_void
from mini_common.auth import IsEndUser, IsEndUserOrInternal, IsInternal
from mini_common.errors import PermissionDenied
from mini_common.fields import EnumField, MoneyField, StrictIntegerField, UsernameField
from mini_common.idempotency import idempotent
from mini_common.pagination import StandardPagination
from mini_common.schema import IDEMPOTENCY_KEY, PAGE_PARAMETERS, page_of, problem_responses
from mini_common.serializers import QuerySerializer, Serializer

MAX_ORDER_ID = 2**63 - 1  # BIGINT
TYPE_CHOICES = Operation.Type.choices


@extend_schema_serializer(component_name="AccountRef")
class AccountRefSerializer(Serializer):
    username = UsernameField()


@extend_schema_serializer(component_name="Account")
class AccountOutputSerializer(Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    balance = MoneyField()


@extend_schema_serializer(component_name="Operation")
class OperationOutputSerializer(Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=TYPE_CHOICES)
    amount = MoneyField()
    balance = MoneyField(source="balance_after", help_text="The balance after this operation.")
    orderId = serializers.IntegerField(source="order_id", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")


class AccountCreateApi(APIView):
    """Internal: mini_auth opens the account during registration."""

    permission_classes = [IsInternal]

    @extend_schema_serializer(component_name="AccountNew")
    class InputSerializer(Serializer):
        username = UsernameField()

    @extend_schema(
        summary="Open an account (internal)",
        description="Idempotent by nature: an existing account is answered with 200. "
        "Unknown body fields are a 400.",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: AccountOutputSerializer,
            200: AccountOutputSerializer,
            **problem_responses(
                {
                    400: "validation_error",
                    403: "permission_denied: not an internal caller (no X-Service).",
                    409: "request_in_progress: the same Idempotency-Key is being processed.",
                    422: "idempotency_key_reused: the same Idempotency-Key with another body.",
                }
            ),
        },
    )
    @idempotent(one_transaction=True)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account, created = account_create(**serializer.validated_data)
        return Response(
            AccountOutputSerializer(account).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AccountBalanceApi(APIView):
    permission_classes = [IsEndUser]

    @extend_schema(
        summary="The caller's balance",
        responses={
            200: AccountOutputSerializer,
            **problem_responses({404: "account_not_found"}),
        },
    )
    def get(self, request):
        account = account_get(username=request.user.username)
        return Response(AccountOutputSerializer(account).data)


class AccountFullApi(APIView):
    permission_classes = [IsEndUser]

    @extend_schema_serializer(component_name="AccountFull")
    class OutputSerializer(AccountOutputSerializer):
        createdAt = serializers.DateTimeField(source="created_at")
        operations = OperationOutputSerializer(many=True, source="recent_operations")

    @extend_schema(
        summary="The caller's account with its latest operations",
        description=f"`operations`: the latest {RECENT_OPERATIONS}, newest first.",
        responses={200: OutputSerializer, **problem_responses({404: "account_not_found"})},
    )
    def get(self, request):
        account = account_get_with_recent_operations(username=request.user.username)
        return Response(self.OutputSerializer(account).data)


class OperationListApi(APIView):
    """The caller's operations, newest first; internal callers name the user in X-Username."""

    permission_classes = [IsEndUser]

    @extend_schema_serializer(component_name="OperationFilter")
    class FilterSerializer(QuerySerializer):
        # A query parameter is always a string: DRF's IntegerField parses "7".
        orderId = serializers.IntegerField(
            source="order_id", required=False, min_value=1, max_value=MAX_ORDER_ID
        )
        type = EnumField(choices=TYPE_CHOICES, required=False, help_text="Case-insensitive.")

    @extend_schema(
        summary="The caller's operations (paginated, newest first)",
        description="`?orderId=` tells, without side effects, whether an order's payment "
        "happened. Internal callers pass the user in X-Username.",
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses={
            200: page_of(OperationOutputSerializer, name="OperationPage"),
            **problem_responses(
                {
                    400: "validation_error: orderId not a positive integer, or unknown type.",
                    404: "account_not_found; not_found for a page past the end.",
                }
            ),
        },
    )
    def get(self, request):
        # A plain dict: given a QueryDict, DRF would read "?orderId=" as "no filter", and a
        # caller asking whether an order was paid would see every payment instead.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        account = account_get(username=request.user.username)
        operations = operation_list(
            account=account,
            order_id=filters.validated_data.get("order_id"),
            operation_type=filters.validated_data.get("type"),
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(operations, request, view=self)
        return paginator.get_paginated_response(OperationOutputSerializer(page, many=True).data)


def _asks_for_payment(body) -> bool:
    """Whether the body names a PAYMENT as the serializer would read its type."""
    kind = body.get("type") if isinstance(body, Mapping) else None
    return isinstance(kind, str) and kind.strip().upper() == Operation.Type.PAYMENT


class OperateApi(APIView):
    permission_classes = [IsEndUserOrInternal]

    @extend_schema_serializer(component_name="Operate")
    class InputSerializer(Serializer):
        type = EnumField(choices=TYPE_CHOICES, help_text="Case-insensitive.")
        amount = MoneyField()
        account = AccountRefSerializer(required=False, allow_null=True)
        orderId = StrictIntegerField(
            source="order_id",
            required=False,
            allow_null=True,
            min_value=1,
            max_value=MAX_ORDER_ID,
            help_text="Required for a PAYMENT; refused on DEPOSIT and WITHDRAWAL.",
        )

        def validate(self, data):
            is_payment = data["type"] == Operation.Type.PAYMENT
            if is_payment and data.get("order_id") is None:
                raise serializers.ValidationError({"orderId": ["A PAYMENT needs an orderId."]})
            if not is_payment and data.get("order_id") is not None:
                raise serializers.ValidationError({"orderId": ["Only a PAYMENT has an orderId."]})
            return data

    @extend_schema(
        summary="Move money: DEPOSIT, WITHDRAWAL, or (internal callers only) PAYMENT",
        description=(
            "Answers the operation with `balance` = the balance after it.\n\n"
            "- `account.username`, if given, must be the caller; admins and internal "
            "callers may name any account. An end user naming another account gets "
            "**403** `permission_denied`, whether that account exists or not.\n"
            "- `PAYMENT` is for internal callers (X-Service) only: **403** otherwise. "
            "It needs `orderId`; `orderId` on DEPOSIT/WITHDRAWAL is a **400**. "
            "`orderId: null` is the same as leaving it out.\n"
            "- A `PAYMENT` for an order that is already paid answers the recorded "
            "payment (200, same body) when account and amount match, **409** "
            "`payment_exists` otherwise. An order is paid at most once, and never after "
            "mini_order declared its payment void (POST /billing/payment/void): **409** "
            "`payment_void`.\n"
            "- Unknown body fields are a **400**."
        ),
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: OperationOutputSerializer,
            **problem_responses(
                {
                    400: "validation_error (bad amount, type, orderId, unknown field); "
                    "malformed_request (not JSON).",
                    402: "insufficient_funds: the balance does not cover a WITHDRAWAL or "
                    "PAYMENT; nothing changed.",
                    403: "permission_denied: PAYMENT from an end user, or another user's account.",
                    404: "account_not_found",
                    409: "payment_exists; payment_void (the order was cancelled); "
                    "request_in_progress (same Idempotency-Key).",
                    422: "balance_limit_exceeded (a deposit past 9999999999.99); "
                    "idempotency_key_reused.",
                }
            ),
        },
    )
    @idempotent(one_transaction=True)
    def post(self, request):
        # Before validation: a user may never make a PAYMENT, so telling them what
        # a PAYMENT would need (an orderId) answers the wrong question.
        if not request.user.is_internal and _asks_for_payment(request.data):
            raise PermissionDenied("Only internal callers make payments")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        username = account_username_for_operation(
            caller=request.user, username=(data.get("account") or {}).get("username")
        )
        operation, _created = operation_perform(
            username=username,
            operation_type=data["type"],
            amount=data["amount"],
            order_id=data.get("order_id"),
        )
        return Response(OperationOutputSerializer(operation).data)


class PaymentVoidApi(APIView):
    """Internal: mini_order declares an order's payment void before it cancels the order."""

    permission_classes = [IsInternal]

    @extend_schema_serializer(component_name="PaymentVoidRequest")
    class InputSerializer(Serializer):
        orderId = StrictIntegerField(source="order_id", min_value=1, max_value=MAX_ORDER_ID)

    @extend_schema_serializer(component_name="PaymentVoidState")
    class OutputSerializer(Serializer):
        orderId = serializers.IntegerField()
        state = serializers.ChoiceField(choices=["VOID", "PAID"])
        payment = OperationOutputSerializer(allow_null=True)

    @extend_schema(
        summary="Declare an order's payment void (internal)",
        description=(
            "For the order of the user in X-Username: if its PAYMENT happened, answers "
            "`state: PAID` with that payment; otherwise records that the payment is void "
            "and answers `state: VOID`, and every later PAYMENT for the order is a **409** "
            "`payment_void` that moves no money. Idempotent by nature: asking again "
            "answers the same."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **problem_responses(
                {
                    400: "validation_error (no X-Username names the order's user)",
                    403: "permission_denied: not an internal caller (no X-Service).",
                }
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_id = serializer.validated_data["order_id"]
        username = account_username_for_operation(caller=request.user, username=None)
        outcome = payment_void(username=username, order_id=order_id)
        paid = isinstance(outcome, Operation)
        answer = {"orderId": order_id, "state": "PAID" if paid else "VOID"}
        answer["payment"] = outcome if paid else None
        return Response(self.OutputSerializer(answer).data)
