from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse

from mini_common.fields import MoneyField
from mini_common.problems import PROBLEM_CONTENT_TYPE
from mini_common.schema import (
    IDEMPOTENCY_KEY,
    NOT_AUTHENTICATED,
    PAGE_PARAMETERS,
    MoneyFieldSchema,
    ProblemSerializer,
    page_of,
    problem_responses,
)


def test_problem_responses_are_problem_json_with_the_common_401():
    responses = problem_responses({404: "not_found", 400: "validation_error"})
    assert list(responses) == [
        (400, PROBLEM_CONTENT_TYPE),
        (401, PROBLEM_CONTENT_TYPE),
        (404, PROBLEM_CONTENT_TYPE),
    ]
    response = responses[(401, PROBLEM_CONTENT_TYPE)]
    assert isinstance(response, OpenApiResponse)
    assert response.response is ProblemSerializer
    assert response.description == NOT_AUTHENTICATED


def test_problem_responses_keep_an_own_401_and_may_leave_it_out():
    own = problem_responses({401: "invalid_token"})
    assert own[(401, PROBLEM_CONTENT_TYPE)].description == "invalid_token"
    public = problem_responses({400: "validation_error"}, authenticated=False)
    assert list(public) == [(400, PROBLEM_CONTENT_TYPE)]


def test_idempotency_key_is_an_optional_header():
    assert (IDEMPOTENCY_KEY.name, IDEMPOTENCY_KEY.location) == ("Idempotency-Key", "header")
    assert IDEMPOTENCY_KEY.required is False


def test_money_field_schema_is_registered_and_follows_allow_zero():
    extension = OpenApiSerializerFieldExtension.get_match(MoneyField())
    assert isinstance(extension, MoneyFieldSchema)
    assert extension.map_serializer_field(None, "response") == {
        "type": "number",
        "format": "decimal",
        "multipleOf": 0.01,
    }
    positive = extension.map_serializer_field(None, "request")["oneOf"][0]
    zero = OpenApiSerializerFieldExtension.get_match(MoneyField(allow_zero=True))
    assert (positive["minimum"], positive["maximum"]) == (0.01, 999999999.99)
    assert zero.map_serializer_field(None, "request")["oneOf"][0]["minimum"] == 0


def test_pages_are_documented_as_standard_pagination_answers_them():
    assert [parameter.name for parameter in PAGE_PARAMETERS] == ["page", "pageSize"]
    page = page_of(ProblemSerializer, name="ProblemPage")
    assert set(page.fields) == {"count", "next", "previous", "results"}
    assert isinstance(page.fields["results"].child, ProblemSerializer)


def test_operations_take_a_bearer_token_or_the_gateways_headers():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The accessToken of POST /api/v1/auth/login, through the gateway.",
    }
    assert (schemes["gatewayIdentity"]["in"], schemes["gatewayIdentity"]["name"]) == (
        "header",
        "X-Username",
    )
    charge = schema["paths"]["/charge"]["post"]
    assert charge["security"] == [{"bearerAuth": []}, {"gatewayIdentity": []}]


def test_request_bodies_are_documented_as_strict_with_their_ignored_fields():
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.utils import extend_schema
    from rest_framework import serializers
    from rest_framework.views import APIView

    from mini_common.serializers import Serializer

    class Item(Serializer):
        name = serializers.CharField()

    class Body(Serializer):
        ignored_fields = ("status",)
        items = Item(many=True)

    class Echo(Serializer):
        items = Item(many=True)

    class BodyApi(APIView):
        @extend_schema(request=Body, responses={200: Echo})
        def post(self, request):  # pragma: no cover - only described
            raise NotImplementedError

    schema = SchemaGenerator(patterns=[path("body", BodyApi.as_view())]).get_schema(
        request=None, public=True
    )
    components = schema["components"]["schemas"]
    assert components["BodyRequest"]["additionalProperties"] is False
    assert components["BodyRequest"]["properties"]["status"] == {
        "description": "Accepted and ignored."
    }
    assert components["ItemRequest"]["additionalProperties"] is False
    assert "additionalProperties" not in components["Echo"]  # answers are not inputs
