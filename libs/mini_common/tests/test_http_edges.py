"""Trust of gateway headers and problem+json on every error path."""

import pytest

pytestmark = pytest.mark.django_db


def test_without_internal_token_identity_headers_are_refused(anonymous_client):
    response = anonymous_client.post(
        "/charge", {"amount": 1, "kind": "DEPOSIT"}, format="json", HTTP_X_USERNAME="alice"
    )
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_wrong_internal_token_is_refused(anonymous_client):
    response = anonymous_client.get("/charge", HTTP_X_INTERNAL_TOKEN="guess")
    assert response.status_code == 401


def test_token_without_identity_is_401(make_user_client):
    response = make_user_client(None).post("/charge", {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_request_id_is_echoed_or_replaced(make_user_client):
    client = make_user_client("alice")
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-1")["X-Request-ID"] == "abc-1"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]
    assert generated != "bad id!" and len(generated) == 32


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{bad", "application/json"),
        ('{"amount": NaN}', "application/json"),
        ("", "application/json"),
    ],
)
def test_malformed_bodies_are_400_problem(make_user_client, body, content_type):
    response = make_user_client("alice").post("/charge", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_unsupported_media_type_is_415(make_user_client):
    response = make_user_client("alice").post("/charge", data="a=1", content_type="text/plain")
    assert response.status_code == 415


def test_wrong_method_is_405_problem(make_user_client):
    response = make_user_client("alice").get("/charge")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_enum_is_case_insensitive_and_unknown_values_are_400(make_user_client):
    client = make_user_client("alice")
    assert (
        client.post("/charge", {"amount": 1, "kind": "Deposit"}, format="json").status_code == 201
    )
    response = client.post("/charge", {"amount": 1, "kind": "STEAL"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_readiness_and_schema_are_public(anonymous_client):
    assert anonymous_client.get("/readyz").status_code == 200
    assert anonymous_client.get("/docs/test/schema.json").status_code == 200


def test_schema_json_is_json_unless_the_client_refuses_json(anonymous_client):
    # The OpenAPI media type unless the client asks for plain JSON; JSON either way.
    for accept, answered in (
        (None, "application/vnd.oai.openapi+json"),
        ("*/*", "application/vnd.oai.openapi+json"),
        ("application/json", "application/json"),
    ):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = anonymous_client.get("/docs/test/schema.json", **headers)
        assert response.status_code == 200, accept
        assert response["Content-Type"].split(";")[0] == answered, accept
        assert response.json()["openapi"].startswith("3."), accept
