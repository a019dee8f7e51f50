"""OpenAPI (drf-spectacular) descriptions of what mini_common provides.

The gateway trust scheme, mini_common's MoneyField, the problem+json body, the
Idempotency-Key header and StandardPagination's pages. The extensions register
themselves on import (MiniCommonConfig.ready()); views use ``problem_responses()``,
``IDEMPOTENCY_KEY``, ``PAGE_PARAMETERS`` and ``page_of()`` in their ``@extend_schema``.
"""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers

from mini_common.money import MAX_AMOUNT
from mini_common.pagination import StandardPagination
from mini_common.problems import PROBLEM_CONTENT_TYPE


class StrictBodyAutoSchema(AutoSchema):
    """Request bodies as mini_common's Serializer takes them (docs/CONVENTIONS.md):
    ``additionalProperties: false``, with the ``ignored_fields`` listed as accepted
    and ignored. (Query-string filters are parameters, not bodies.)"""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            properties = schema.setdefault("properties", {})
            for name in serializer.ignored_fields:
                properties.setdefault(name, {"description": "Accepted and ignored."})
            schema["additionalProperties"] = False
        return schema


class GatewayHeaderScheme(OpenApiAuthenticationExtension):
    """Either of two ways in: the caller's JWT through the gateway, or the gateway's headers.

    The schemas are read (and the Swagger UI is used) through the gateway, where a
    client authenticates with its access token: ``bearerAuth`` is what the UI's
    Authorize button takes. Behind the gateway a service sees ``X-Username``
    instead (``gatewayIdentity``). Either one satisfies an operation.
    """

    target_class = "mini_common.auth.GatewayHeaderAuthentication"
    name = ["bearerAuth", "gatewayIdentity"]

    def get_security_requirement(self, auto_schema):
        return [{name: []} for name in self.name]  # one OR the other, not both

    def get_security_definition(self, auto_schema):
        bearer = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The accessToken of POST /api/v1/auth/login, through the gateway.",
        }
        gateway = {
            "type": "apiKey",
            "in": "header",
            "name": "X-Username",
            "description": (
                "Set by the gateway from the JWT (with X-Roles) or by a calling service "
                "(with X-Service); trusted only together with X-Internal-Token."
            ),
        }
        return [bearer, gateway]


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """Money: a JSON number with at most 2 decimals; requests may also send a numeric string."""

    target_class = "mini_common.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        number = {"type": "number", "format": "decimal", "multipleOf": 0.01}
        if direction == "response":
            return number
        minimum: float
        if self.target.allow_zero:
            minimum, lowest = 0, "Zero or more"
        else:
            minimum, lowest = 0.01, "Greater than 0"
        return {
            "oneOf": [
                {**number, "minimum": minimum, "maximum": float(MAX_AMOUNT)},
                {"type": "string", "pattern": r"^\s*\+?(\d+(\.\d{0,2})?|\.\d{1,2})\s*$"},
            ],
            "description": f"{lowest}, at most 2 decimals, at most {MAX_AMOUNT}; "
            "a number or a numeric string. Booleans, NaN and Infinity are refused.",
        }


@extend_schema_serializer(component_name="Problem")
class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details; ``code`` is the stable machine-readable reason."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    # The contract's field name; it shadows Serializer.errors, which this class never uses.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="Field name -> messages (400 only)."
    )


NOT_AUTHENTICATED = "not_authenticated: no internal token, or no caller identity."


def problem_responses(described: dict[int, str], *, authenticated: bool = True) -> dict:
    """``{status: description}`` as problem+json responses for ``@extend_schema``.

    An ``authenticated`` operation (the default) also documents the 401 every
    authenticated view can answer, unless ``described`` describes its own 401.
    """
    common = {401: NOT_AUTHENTICATED} if authenticated else {}
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=text)
        for status, text in sorted({**common, **described}.items())
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="1-255 printable ASCII characters. The same key and body replays the stored "
    "answer with `Idempotent-Replayed: true`; another body is a 422 idempotency_key_reused; "
    "while the first request runs, a 409 request_in_progress.",
)


PAGE_PARAMETERS = [
    OpenApiParameter(
        name=StandardPagination.page_query_param,
        type=OpenApiTypes.INT,
        description="1-based page number; a page past the end is a 404 not_found.",
    ),
    OpenApiParameter(
        name=StandardPagination.page_size_query_param,
        type=OpenApiTypes.INT,
        description=f"Items per page (default {StandardPagination.page_size}, "
        f"at most {StandardPagination.max_page_size}).",
    ),
]


PAGE_LINK = "That page as a relative URL (path and query, e.g. `/api/v1/order?page=2`), or null."


def page_of(item: type[serializers.Serializer], *, name: str) -> serializers.Serializer:
    """The body StandardPagination answers, as the component ``name``: items in ``results``."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.CharField(allow_null=True, help_text=PAGE_LINK),
            "previous": serializers.CharField(allow_null=True, help_text=PAGE_LINK),
            "results": item(many=True),
        },
    )
