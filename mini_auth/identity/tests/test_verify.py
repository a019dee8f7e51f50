from datetime import timedelta

import pytest
from django.utils import timezone

from identity.revocation import access_token_revoke
from identity.tests.factories import UserFactory
from identity.tests.jwt_helpers import (
    access_token,
    full_payload,
    hmac_with_header,
    signed,
    unsigned,
)
from identity.tokens import tokens_issue

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/auth/verify"


def verify(client, token: str | None = None, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(VERIFY, **headers)


def assert_refused(response, code="invalid_token"):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert "X-Username" not in response


def test_valid_access_token_gives_identity_headers_without_any_query(
    nginx_client, django_assert_num_queries
):
    tokens = tokens_issue(user=UserFactory(username="alice"))

    with django_assert_num_queries(0):
        response = verify(nginx_client, tokens.access)

    assert response.status_code == 200
    assert response.json() == {}
    assert response["X-Username"] == "alice"
    assert response["X-Roles"] == "user"


def test_staff_users_are_admins(nginx_client):
    tokens = tokens_issue(user=UserFactory(username="root", is_staff=True))
    response = verify(nginx_client, tokens.access)
    assert response["X-Roles"] == "user,admin"


def test_scheme_is_case_insensitive(nginx_client):
    tokens = tokens_issue(user=UserFactory())
    response = nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"bearer {tokens.access}")
    assert response.status_code == 200


def test_refresh_token_is_refused(nginx_client):
    tokens = tokens_issue(user=UserFactory())
    assert_refused(verify(nginx_client, tokens.refresh))


def test_a_token_signed_by_hand_with_our_key_passes(nginx_client):
    """The control for the forgeries below: each differs from this in one thing only."""
    payload = full_payload(access_token(UserFactory(username="alice")))
    response = verify(nginx_client, signed(payload))
    assert response.status_code == 200
    assert response["X-Username"] == "alice"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(nginx_client, alg):
    payload = full_payload(access_token(UserFactory()))
    assert_refused(verify(nginx_client, unsigned(payload, alg=alg)))


def test_token_signed_with_another_key_is_refused(nginx_client):
    payload = full_payload(access_token(UserFactory()))
    assert_refused(verify(nginx_client, signed(payload, key="another-key-" + "x" * 32)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithm_with_our_key_is_refused(nginx_client, algorithm):
    payload = full_payload(access_token(UserFactory()))
    assert_refused(verify(nginx_client, signed(payload, algorithm=algorithm)))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "EdDSA", "HS256 "])
def test_algorithm_confusion_is_refused(nginx_client, alg):
    """HS/RS confusion: the header names an asymmetric algorithm and the signature is an
    HMAC with our secret, as if our key were the public key."""
    payload = full_payload(access_token(UserFactory()))
    assert_refused(verify(nginx_client, hmac_with_header(payload, alg)))


def test_a_key_embedded_in_the_header_is_not_trusted(nginx_client):
    """jwk / jku / kid headers name the attacker's key; only our configured key counts."""
    payload = full_payload(access_token(UserFactory()))
    attacker_key = "attacker-key-" + "y" * 32
    token = signed(
        payload,
        key=attacker_key,
        jwk={"kty": "oct", "k": attacker_key},
        jku="https://attacker.example/jwks.json",
        kid="../../../../dev/null",
    )
    assert_refused(verify(nginx_client, token))


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": None},
        {"iss": "someone-else"},
        {"aud": None},
        {"aud": "another-audience"},
    ],
)
def test_issuer_and_audience_are_checked(nginx_client, claims):
    payload = full_payload(access_token(UserFactory()))
    for name, value in claims.items():
        payload.pop(name) if value is None else payload.update({name: value})
    assert_refused(verify(nginx_client, signed(payload)))


def test_expired_token_is_refused(nginx_client):
    token = access_token(UserFactory(), expired=True)
    assert_refused(verify(nginx_client, str(token)))


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": None},
        {"roles": []},
        {"roles": ["superuser"]},
        {"roles": "user"},
        {"roles": [{"name": "user"}]},
        {"username": None},
        {"username": "bad name"},
        {"username": 42},
        {"jti": None},
        {"jti": 7},
        {"fam": None},
        {"fam": "not-a-family"},
        {"iat": None},
        {"iat": "yesterday"},
        {"token_type": "refresh"},
        {"token_type": None},
        {"exp": None},
        {"exp": "tomorrow"},
        # PyJWT takes what int() takes; simplejwt's datetime of it raised (500, 503 at
        # the gateway): OverflowError, ValueError (year out of range), TypeError.
        {"exp": 1e30},
        {"exp": 1e17},
        {"exp": 10**400},
        {"exp": "9999999999"},
        {"exp": True},
        {"iat": -(10**400)},
    ],
)
def test_token_with_bad_claims_is_refused(nginx_client, claims):
    token = access_token(UserFactory(username="alice"), **claims)
    assert_refused(verify(nginx_client, str(token)))


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "é.é.é", "x" * 5000],
)
def test_malformed_token_is_refused(nginx_client, token):
    assert_refused(verify(nginx_client, token))


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer ", "Basic YWxpY2U6cHc=", "Token abc", "Bearer a b"]
)
def test_missing_or_non_bearer_authorization_is_refused(nginx_client, header):
    response = nginx_client.get(VERIFY, HTTP_AUTHORIZATION=header)
    assert_refused(response, code="not_authenticated")


def test_no_authorization_header_is_refused(nginx_client):
    assert_refused(verify(nginx_client), code="not_authenticated")


def test_without_internal_token_is_refused(anonymous_client):
    tokens = tokens_issue(user=UserFactory())
    assert_refused(verify(anonymous_client, tokens.access), code="not_authenticated")


def test_wrong_internal_token_is_refused(anonymous_client):
    tokens = tokens_issue(user=UserFactory())
    response = verify(anonymous_client, tokens.access, HTTP_X_INTERNAL_TOKEN="guess")
    assert_refused(response, code="not_authenticated")


def test_caller_identity_headers_are_neither_needed_nor_trusted(make_service_client):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    response = verify(make_service_client("mini_order", "mallory"), tokens.access)
    assert response.status_code == 200
    assert response["X-Username"] == "alice"


def test_revoked_token_is_refused_without_any_query(
    nginx_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    token = access_token(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        access_token_revoke(
            jti=token["jti"], username="x", expires_at=timezone.now() + timedelta(minutes=5)
        )

    with django_assert_num_queries(0):
        response = verify(nginx_client, str(token))

    assert_refused(response)


def test_only_get_is_allowed(nginx_client):
    tokens = tokens_issue(user=UserFactory())
    response = nginx_client.post(VERIFY, HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert response.status_code == 405
