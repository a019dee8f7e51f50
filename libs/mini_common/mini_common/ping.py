"""``GET .../ping``: the cheapest authenticated DRF endpoint, the benchmark's floor.

It runs exactly what every API request runs — the middleware stack, the
gateway-header authentication and the end-user permission — and nothing else:
no database, no call to another service. Through the gateway (nginx →
auth_request → gunicorn → Django → DRF) its requests/s is the ceiling any real
endpoint of the same path can reach; ``bench`` compares orders/s with it.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mini_common.conf import mini_setting
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
