from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.errors import DependencyUnavailable, InsufficientFunds
from mini_common.failfast import fail_fast
from mini_common.fields import EnumField, MoneyField
from mini_common.idempotency import idempotent
from mini_common.models import IdempotencyRecord
from mini_common.ping import HopsPingApi
from mini_common.urls import common_urlpatterns

CALLS = []  # what the view really did, so tests can tell replays from re-runs


class ChargeApi(APIView):
    """A stand-in for a money-moving endpoint."""

    class InputSerializer(serializers.Serializer):
        amount = MoneyField()
        kind = EnumField(choices=["DEPOSIT", "WITHDRAWAL"])
        outcome = serializers.ChoiceField(choices=["ok", "poor", "down"], default="ok")

    def validated(self, request) -> dict:
        """The request's data, recorded in CALLS as work done."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        CALLS.append(serializer.validated_data)
        return serializer.validated_data

    @idempotent
    def post(self, request):
        data = self.validated(request)
        outcome = data["outcome"]
        if outcome == "poor":
            raise InsufficientFunds("not enough")
        if outcome == "down":
            raise DependencyUnavailable("billing")
        return Response(
            {
                "n": len(CALLS),
                "amount": MoneyField().to_representation(data["amount"]),
            },
            status=201,
        )


class ChargeThroughBillingApi(ChargeApi):
    """The same work, for a view that cannot finish without mini_billing."""

    @fail_fast("billing")
    @idempotent
    def post(self, request):
        return ChargeApi.post.__wrapped__(self, request)


def _work_row(key: str) -> IdempotencyRecord:
    """A row standing for the work of ChargeInOneTransactionApi (path "work")."""
    return IdempotencyRecord.objects.create(
        username="-",
        method="-",
        path="work",
        key=key,
        fingerprint="-",
        state="COMPLETED",
        locked_until=timezone.now(),
    )


class ChargeInOneTransactionApi(ChargeApi):
    """Work that is only rows of this database, like mini_billing's money moves."""

    @idempotent(one_transaction=True)
    def post(self, request):
        data = self.validated(request)
        with transaction.atomic():  # a savepoint inside the request's transaction
            _work_row(f"charge-{len(CALLS)}")
        if data["outcome"] == "poor":
            raise InsufficientFunds("not enough")
        if data["outcome"] == "down":
            raise DependencyUnavailable("billing")
        return Response({"n": len(CALLS)}, status=201)


urlpatterns = [
    path("charge", ChargeApi.as_view()),
    path("charge-in-one-transaction", ChargeInOneTransactionApi.as_view()),
    path("charge-through-billing", ChargeThroughBillingApi.as_view()),
    path("hops", HopsPingApi.as_view(hops=(("billing", "/b/ping"), ("notif", "/n/ping")))),
    *common_urlpatterns("test"),
]
handler404 = "mini_common.problems.handler404"
handler500 = "mini_common.problems.handler500"
