"""``GET .../ping``: the cheapest authenticated DRF endpoint, the benchmark's floor.

It runs exactly what every API request runs — the middleware stack, the
gateway-header authentication and the end-user permission — and nothing else:
no database, no call to another service. Through the gateway (nginx →
auth_request → gunicorn → Django → DRF) its requests/s is the ceiling any real
endpoint of the same path can reach; ``bench`` compares orders/s with it.

``HopsPingApi`` is an order's hops without its work: it calls other services'
pings through the service client, one after the other, as an order calls
mini_billing and then mini_notif. What it costs beyond one floor request is
what the synchronous design itself costs, before any database or business
logic; ``bench`` measures it too.

Both are the benchmark's, not the product's: a service routes them only when
MINI_BENCH_ENDPOINTS is on (``mini_common.urls.bench_urlpatterns``), which is
off by default and refused in production.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.client import service_client
from mini_common.conf import mini_setting
from mini_common.errors import DependencyUnavailable
from mini_common.schema import problem_responses


class PingApi(APIView):
    @extend_schema(
        operation_id="ping",
        responses={
            200: inline_serializer(
                "Ping",
                fields={"status": serializers.CharField(), "service": serializers.CharField()},
            ),
            **problem_responses({}),
        },
        description="Answers `{status: ok}` to an authenticated user: the benchmark's floor.",
    )
    def get(self, request):
        return Response({"status": "ok", "service": mini_setting("SERVICE_NAME")})


class HopsPingApi(APIView):
    """Pings each of ``hops`` ((service, path) pairs) in turn, as the caller's user."""

    hops: tuple[tuple[str, str], ...] = ()

    @extend_schema(
        operation_id="ping_hops",
        responses={
            200: inline_serializer(
                "PingHops",
                fields={
                    "status": serializers.CharField(),
                    "service": serializers.CharField(),
                    "hops": serializers.DictField(child=serializers.IntegerField()),
                },
            ),
            **problem_responses({503: "A service on the way did not answer its ping."}),
        },
        description="Pings the services an order calls, in the order's sequence: the "
        "benchmark's measure of what the hops alone cost.",
    )
    def get(self, request):
        answers = {}
        for service, path in self.hops:
            response = service_client(service).get(path, username=request.user.username)
            if response.status != 200:
                raise DependencyUnavailable(
                    service, f"{service} answered its ping with {response.status}"
                )
            answers[service] = response.status
        return Response({"status": "ok", "service": mini_setting("SERVICE_NAME"), "hops": answers})
