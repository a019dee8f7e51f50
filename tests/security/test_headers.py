"""Identity headers: spoofed through the gateway, and straight at the services' ports."""

import pytest

from tests.security.support import INTERNAL_ENDPOINTS, SERVICE_PATHS, raw_request
from tests.support import assert_problem

SPOOFED = {
    "X-Username": "{victim}",
    "X-Roles": "user,admin",
    "X-Service": "mini_order",
    "X-Internal-Token": "{token}",
}


def spoofed_headers(victim: str, token: str) -> dict[str, str]:
    return {name: value.format(victim=victim, token=token) for name, value in SPOOFED.items()}


# --- through the gateway ---------------------------------------------------------------


def test_spoofed_identity_is_overwritten_by_the_tokens(alice, bob, direct):
    forged = spoofed_headers(alice.username, direct.internal_token)
    own = bob.api.get("/billing/account/balance", headers=forged)
    assert own.status_code == 200 and own.json()["username"] == bob.username
    assert_problem(bob.api.get(f"/api/v1/user/{alice.username}", headers=forged), 404)
    # X-Service is emptied too: a user cannot make an internal-only PAYMENT.
    payment = bob.api.post(
        "/billing/account/operate",
        {"type": "PAYMENT", "amount": 1, "orderId": 1},
        headers=forged,
    )
    assert_problem(payment, 403)


def test_even_the_real_internal_token_gets_no_one_past_the_gateway(gateway, alice, direct):
    forged = spoofed_headers(alice.username, direct.internal_token)
    assert_problem(gateway.get("/billing/account/balance", headers=forged), 401)
    assert_problem(gateway.post("/api/v1/user", {"username": "x"}, headers=forged), 404)


@pytest.mark.parametrize(
    "name",
    [
        "x-username",
        "X-USERNAME",
        "X_Username",
        "x_username",
        "X-Username ",
        "X-Username\t",
    ],
)
def test_case_and_underscore_variants_do_not_smuggle_an_identity(secure_system, alice, bob, name):
    token = bob.api.session.headers["Authorization"]
    status, _, body = raw_request(
        secure_system.gateway_url,
        "GET",
        "/billing/account/balance",
        [("Authorization", token), (name.strip(), alice.username)],
    )
    assert status == 200 and alice.username.encode() not in body
    assert bob.username.encode() in body


def test_a_duplicated_identity_header_does_not_help(secure_system, alice, bob):
    token = bob.api.session.headers["Authorization"]
    status, _, body = raw_request(
        secure_system.gateway_url,
        "GET",
        "/billing/account/balance",
        [
            ("Authorization", token),
            ("X-Username", alice.username),
            ("X-Username", alice.username),
            ("X-Roles", "admin"),
            ("X-Roles", "admin"),
        ],
    )
    assert status == 200 and bob.username.encode() in body


def test_underscore_internal_token_is_dropped_by_the_gateway(secure_system, alice, direct):
    status, _, _ = raw_request(
        secure_system.gateway_url,
        "GET",
        "/billing/account/balance",
        [("X_Internal_Token", direct.internal_token), ("X_Username", alice.username)],
    )
    assert status == 401


# --- straight to a service's port ------------------------------------------------------


@pytest.mark.parametrize("service", list(SERVICE_PATHS))
@pytest.mark.parametrize(
    "token",
    [None, "", "dev-internal-token", "guess", "{prefix}", "{real}x", "{real_upper}"],
)
def test_a_service_refuses_anyone_without_the_internal_token(direct, alice, service, token):
    headers = {"X-Username": alice.username, "X-Roles": "user,admin", "X-Service": "mini_order"}
    if token is not None:
        real = direct.internal_token
        headers["X-Internal-Token"] = token.format(
            real=real, real_upper=real.upper(), prefix=real[:-1]
        )
    method = "POST" if service == "auth" else "GET"
    response = direct.request(
        method,
        service,
        SERVICE_PATHS[service],
        headers=headers,
        json={} if method == "POST" else None,
    )
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.parametrize("service", ["user", "billing", "order", "notif"])
def test_underscore_variants_of_the_internal_token_do_not_count(secure_system, direct, service):
    status, _, body = raw_request(
        secure_system.url(service),
        "GET",
        SERVICE_PATHS[service],
        [("X_Internal_Token", direct.internal_token), ("X-Username", "someone")],
    )
    assert status == 401, body


def test_underscore_identity_headers_do_not_count_even_with_the_token(secure_system, direct, alice):
    status, _, body = raw_request(
        secure_system.url("billing"),
        "GET",
        "/billing/account/balance",
        [("X-Internal-Token", direct.internal_token), ("X_Username", alice.username)],
    )
    assert status == 401, body


def test_with_the_internal_token_a_service_trusts_the_identity_headers(direct, alice):
    """The trust model's other side: whoever holds the token speaks for anyone. Hence it
    is a secret of the deployment, only nginx and the services have it."""
    response = direct.request(
        "GET",
        "billing",
        "/billing/account/balance",
        headers=direct.trusted(**{"X-Username": alice.username}),
    )
    assert response.status_code == 200 and response.json()["username"] == alice.username


@pytest.mark.parametrize("service, path, body", INTERNAL_ENDPOINTS)
def test_internal_endpoints_need_the_token_401(direct, service, path, body):
    response = direct.request("POST", service, path, json=body, headers={"X-Service": "mini_auth"})
    assert_problem(response, 401)


@pytest.mark.parametrize("service, path, body", INTERNAL_ENDPOINTS)
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"X-Username": "internal_probe"},
        {"X-Username": "internal_probe", "X-Roles": "user,admin"},
        {"X-Service": "mini_evil"},
        {"X-Service": "MINI_AUTH"},
        {"X-Service": "mini_auth2"},
    ],
)
def test_internal_endpoints_without_a_known_x_service_are_403(direct, service, path, body, extra):
    response = direct.request("POST", service, path, json=body, headers=direct.trusted(**extra))
    assert_problem(response, 403, "permission_denied")


# What each answers the first time (API.md), in this session's fresh system: the
# profile and the account of internal_probe are created (201; only the same call
# again would be a 200), a notification is always created, and payment/void answers
# the order's payment state (200).
FIRST_ANSWER = {
    "/api/v1/user": 201,
    "/billing/account/new": 201,
    "/billing/payment/void": 200,
    "/api/v1/notification": 201,
}


@pytest.mark.parametrize(
    "service, path, body, answered",
    [(service, path, body, FIRST_ANSWER[path]) for service, path, body in INTERNAL_ENDPOINTS],
)
def test_internal_endpoints_work_for_a_known_service(direct, service, path, body, answered):
    # For the user named in X-Username, as services call them (payment/void needs one).
    caller = {"X-Service": "mini_auth", "X-Username": "internal_probe"}
    response = direct.request("POST", service, path, json=body, headers=direct.trusted(**caller))
    assert response.status_code == answered, response.text


def test_verify_needs_the_internal_token(direct, alice):
    token = alice.api.session.headers["Authorization"]
    refused = direct.request("GET", "auth", "/api/v1/auth/verify", headers={"Authorization": token})
    assert_problem(refused, 401)
    answered = direct.request(
        "GET", "auth", "/api/v1/auth/verify", headers=direct.trusted(Authorization=token)
    )
    assert answered.status_code == 200
    assert answered.headers["X-Username"] == alice.username
