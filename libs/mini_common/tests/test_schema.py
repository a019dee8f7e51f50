import pytest
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from mini_common.fields import MoneyField
from mini_common.pagination import StandardPagination
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


def documented_idempotency_parameter() -> dict:
    """The parameter an operation listing IDEMPOTENCY_KEY shows its clients in the schema."""
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.utils import extend_schema
    from rest_framework.views import APIView

    class CreateApi(APIView):
        @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY], responses={201: None})
        def post(self, request):  # pragma: no cover - only described
            raise NotImplementedError

    schema = SchemaGenerator(patterns=[path("create", CreateApi.as_view())]).get_schema(
        request=None, public=True
    )
    [parameter] = schema["paths"]["/create"]["post"]["parameters"]
    return parameter


@pytest.mark.django_db
def test_the_idempotency_key_the_schema_documents_is_optional_and_honoured(make_user_client):
    documented = documented_idempotency_parameter()
    assert documented["in"] == "header"
    assert not documented.get("required", False)  # OpenAPI: absent means optional
    client = make_user_client("alice")
    body = {"amount": 1, "kind": "DEPOSIT"}
    header = {f"HTTP_{documented['name'].upper().replace('-', '_')}": "k-documented"}

    first = client.post("/charge", body, format="json", **header)
    again = client.post("/charge", body, format="json", **header)
    without = client.post("/charge", body, format="json")

    assert (first.status_code, again.status_code, without.status_code) == (201, 201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"  # the header named is the one read
    assert "Idempotent-Replayed" not in without


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
    # The documented parameters, in order (page, then its size), are the ones it reads.
    page_name, size_name = (parameter.name for parameter in PAGE_PARAMETERS)
    request = Request(APIRequestFactory().get(f"/items?{page_name}=2&{size_name}=10"))
    assert StandardPagination().paginate_queryset(list(range(50)), request) == list(range(10, 20))
    page = page_of(ProblemSerializer, name="ProblemPage")
    assert set(page.fields) == {"count", "next", "previous", "results"}
    assert isinstance(page.fields["results"].child, ProblemSerializer)


def test_operations_take_a_bearer_token_or_the_gateways_headers():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    schemes = schema["components"]["securitySchemes"]
    # What makes the Swagger UI's Authorize take the access token as a bearer token.
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
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
