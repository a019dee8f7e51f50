"""OpenAPI helpers: the problem+json body, and schemas for mini_common's custom fields."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from mini_common.problems import PROBLEM_CONTENT_TYPE

COMMON_PROBLEMS = {
    401: "not_authenticated: no internal token, or no caller identity.",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="1-255 printable ASCII characters. The same key and body replays the stored "
    "answer with `Idempotent-Replayed: true`; another body is a 422 idempotency_key_reused; "
    "while the first request runs, a 409 request_in_progress.",
)


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """Money: a JSON number with at most 2 decimals; requests may also send a numeric string."""

    target_class = "mini_common.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        number = {"type": "number", "format": "decimal", "multipleOf": 0.01}
        if direction == "response":
            return number
        return {
            "oneOf": [
                {**number, "minimum": 0.01, "maximum": 999999999.99},
                {"type": "string", "pattern": r"^\s*\+?(\d+(\.\d{0,2})?|\.\d{1,2})\s*$"},
            ],
            "description": "Greater than 0, at most 2 decimals, at most 999999999.99; "
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
    errors = serializers.DictField(required=False, help_text="Field name -> messages (400 only).")


def problem_responses(described: dict[int, str]) -> dict:
    """``{status: description}`` as problem+json responses for ``@extend_schema``."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=text)
        for status, text in sorted({**described, **COMMON_PROBLEMS}.items())
    }
