"""Forged, tampered, expired and revoked tokens, through the gateway (and verify itself)."""

import time

import pytest
import requests

from tests.security.conftest import AUTH_CACHE_SECONDS
from tests.security.forge import (
    claims_of,
    header_of,
    with_claims,
    with_flipped_signature,
)
from tests.security.support import fresh_tokens, wait_until_refused
from tests.support import assert_problem, login, register_user

PROBE = "/billing/account/balance"  # any protected route
VERIFY = "/api/v1/auth/verify"
# A revocation shows once the gateway's cached "valid" answer has expired:
# its TTL, plus up to a second of nginx's whole-second cache clock.
REVOCATION_BOUND = AUTH_CACHE_SECONDS + 1.5


def as_bearer(gateway, token: str) -> requests.Response:
    return gateway.get(PROBE, headers={"Authorization": f"Bearer {token}"})


def assert_refused(response: requests.Response) -> None:
    assert_problem(response, 401, "not_authenticated")
    assert "X-Username" not in response.headers


# --- the control: a token made by the key holder passes ---------------------------------


def test_control_a_token_signed_with_the_configured_key_passes(gateway, forger, bob):
    response = as_bearer(gateway, forger.token(bob.username))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == bob.username


def test_a_real_access_token_has_the_pinned_header_and_claims(gateway, bob):
    token = fresh_tokens(gateway, bob)["accessToken"]
    assert header_of(token) == {"alg": "HS256", "typ": "JWT"}
    claims = claims_of(token)
    assert claims["token_type"] == "access" and claims["username"] == bob.username
    assert (claims["iss"], claims["aud"]) == ("mini_auth", "mini")
    assert claims["exp"] - claims["iat"] <= 300  # short-lived
    assert claims["fam"] and claims["jti"]


# --- no token, malformed headers --------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6cHc=",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer ....",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
        "Bearer " + "x" * 5000,
    ],
)
def test_no_token_or_a_malformed_header_is_401(gateway, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_refused(gateway.get(PROBE, headers=headers))


def test_a_valid_token_in_a_malformed_header_is_401(gateway, bob):
    token = fresh_tokens(gateway, bob)["accessToken"]
    for authorization in (token, f"Bearer {token} extra", f"Bearer {token}x", f"Basic {token}"):
        assert_refused(gateway.get(PROBE, headers={"Authorization": authorization}))


# --- forgeries: each differs from the control in one thing --------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_401(gateway, forger, bob, alg):
    assert_refused(as_bearer(gateway, forger.unsigned(forger.claims(bob.username), alg=alg)))


def test_a_token_signed_with_another_key_is_401(gateway, forger, bob):
    claims = forger.claims(bob.username)
    assert_refused(as_bearer(gateway, forger.sign(claims, key="attacker-key-" + "k" * 40)))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_hmac_algorithm_even_with_our_key_is_401(gateway, forger, bob, algorithm):
    claims = forger.claims(bob.username)
    assert_refused(as_bearer(gateway, forger.sign(claims, algorithm=algorithm)))


@pytest.mark.parametrize("alg", ["RS256", "RS512", "ES256", "PS256", "EdDSA"])
def test_hs_rs_confusion_is_401(gateway, forger, bob, alg):
    """The header names an asymmetric algorithm; the signature is an HMAC with our secret,
    i.e. our HS key used as if it were the public key."""
    assert_refused(as_bearer(gateway, forger.hmac_under(forger.claims(bob.username), alg)))


def test_an_attacker_key_named_in_the_header_is_not_used(gateway, forger, bob):
    attacker_key = "attacker-key-" + "j" * 40
    token = forger.sign(
        forger.claims(bob.username),
        key=attacker_key,
        jwk={"kty": "oct", "k": attacker_key},
        jku="https://attacker.example/jwks.json",
        kid="attacker",
    )
    assert_refused(as_bearer(gateway, token))


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 1},  # expired
        {"exp": None},
        {"token_type": "refresh"},
        {"token_type": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"aud": "another-audience"},
        {"aud": None},
        {"fam": None},
        {"jti": None},
        {"iat": None},
        {"iat": int(time.time()) + 3600},  # issued in the future
        {"nbf": int(time.time()) + 3600},  # not valid yet
        {"roles": ["user", "superuser"]},
        {"roles": []},
        {"roles": "admin"},
        {"username": "bad name"},
        {"username": None},
    ],
)
def test_a_token_of_our_key_with_one_wrong_claim_is_401(gateway, forger, bob, changes):
    assert_refused(as_bearer(gateway, forger.token(bob.username, **changes)))


# --- tampering with a real token -----------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "admin"},
        {"roles": ["user", "admin"]},
        {"exp": 4102444800},  # year 2100
        {"is_admin": True},  # one claim more
    ],
)
def test_a_real_token_with_a_changed_payload_is_401(gateway, bob, changes):
    token = fresh_tokens(gateway, bob)["accessToken"]
    tampered = with_claims(token, **changes)
    assert tampered != token
    assert_refused(as_bearer(gateway, tampered))


def test_a_real_token_with_a_changed_signature_is_401(gateway, bob):
    token = fresh_tokens(gateway, bob)["accessToken"]
    assert_refused(as_bearer(gateway, with_flipped_signature(token)))


def test_a_refresh_token_is_no_access_token(gateway, bob):
    assert_refused(as_bearer(gateway, fresh_tokens(gateway, bob)["refreshToken"]))


def test_an_access_token_is_no_refresh_token(gateway, bob):
    access = fresh_tokens(gateway, bob)["accessToken"]
    assert_problem(gateway.post("/api/v1/auth/refresh", {"refreshToken": access}), 401)


def test_verify_is_not_reachable_from_outside_even_with_a_valid_token(gateway, bob):
    token = fresh_tokens(gateway, bob)["accessToken"]
    response = gateway.get(VERIFY, headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 404)


# --- the gateway's cache: short, per token, never of a refusal -----------------------------


def test_a_refusal_is_never_cached(gateway, forger, bob):
    """A token that is not valid yet (nbf) is refused, then accepted the moment it becomes
    valid: had the 401 been cached like a 200, it would still be refused for the TTL."""
    not_before = int(time.time()) + 2
    token = forger.token(bob.username, nbf=not_before)
    assert_refused(as_bearer(gateway, token))
    assert_refused(as_bearer(gateway, token))
    time.sleep(max(0.0, not_before - time.time()) + 0.3)
    assert as_bearer(gateway, token).status_code == 200


def test_logout_revokes_the_session_once_the_cache_ttl_has_passed(gateway, bob):
    tokens = fresh_tokens(gateway, bob)
    me = gateway.as_user(tokens["accessToken"])
    assert me.get(PROBE).status_code == 200  # now cached as valid

    response = me.post("/api/v1/auth/logout", {"refreshToken": tokens["refreshToken"]})

    assert response.status_code == 204, response.text
    assert_problem(
        gateway.post("/api/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}), 401
    )
    took = wait_until_refused(me, PROBE, within=REVOCATION_BOUND)
    assert took <= REVOCATION_BOUND


# --- refresh rotation with reuse detection -------------------------------------------------


def refresh(gateway, token: str) -> requests.Response:
    return gateway.post("/api/v1/auth/refresh", {"refreshToken": token})


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family(gateway, bob):
    first = fresh_tokens(gateway, bob)
    other_session = fresh_tokens(gateway, bob)
    second = refresh(gateway, first["refreshToken"])
    assert second.status_code == 200, second.text
    second = second.json()
    third = refresh(gateway, second["refreshToken"]).json()
    assert claims_of(third["refreshToken"])["fam"] == claims_of(first["refreshToken"])["fam"]
    latest = gateway.as_user(third["accessToken"])
    assert latest.get(PROBE).status_code == 200

    # An attacker replays the first (already used) refresh token.
    assert_problem(refresh(gateway, first["refreshToken"]), 401, "invalid_token")

    # The whole family is dead: the newest refresh token and every access token of it.
    assert_problem(refresh(gateway, third["refreshToken"]), 401, "invalid_token")
    wait_until_refused(latest, PROBE, within=REVOCATION_BOUND)
    assert_refused(as_bearer(gateway, second["accessToken"]))
    # The user's other session is not concerned.
    assert as_bearer(gateway, other_session["accessToken"]).status_code == 200
    assert refresh(gateway, other_session["refreshToken"]).status_code == 200


def test_refresh_token_reuse_by_two_racing_clients_kills_the_family(gateway, bob):
    tokens = fresh_tokens(gateway, bob)
    first = refresh(gateway, tokens["refreshToken"])
    second = refresh(gateway, tokens["refreshToken"])
    assert first.status_code == 200 and second.status_code == 401
    assert refresh(gateway, first.json()["refreshToken"]).status_code == 401


# --- users who lose their rights ----------------------------------------------------------


def _shell(system, code: str) -> None:
    result = system.manage("auth", "shell", "-c", code, capture=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_deactivated_users_tokens_stop_working(secure_system, gateway):
    user = register_user(gateway, prefix="gone")
    tokens = fresh_tokens(gateway, user)
    me = gateway.as_user(tokens["accessToken"])
    assert me.get(PROBE).status_code == 200

    _shell(
        secure_system,
        "from django.contrib.auth import get_user_model as m; "
        f"u = m().objects.get(username={user.username!r}); u.is_active = False; u.save()",
    )

    wait_until_refused(me, PROBE, within=REVOCATION_BOUND)
    assert_refused(as_bearer(gateway, tokens["accessToken"]))
    assert_problem(refresh(gateway, tokens["refreshToken"]), 401)
    assert_problem(
        gateway.post("/api/v1/auth/login", {"username": user.username, "password": user.password}),
        401,
    )


def test_a_token_for_a_user_who_never_existed_is_refused_by_the_services(gateway, forger):
    """Even a key holder's token for a nobody reaches no data: the services own none for it."""
    response = as_bearer(gateway, forger.token("nobody_ever_registered"))
    assert response.status_code == 404


def test_the_login_answer_is_not_cacheable(gateway, bob):
    response = gateway.post(
        "/api/v1/auth/login", {"username": bob.username, "password": bob.password}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert login(gateway, bob.username)["tokenType"] == "Bearer"
