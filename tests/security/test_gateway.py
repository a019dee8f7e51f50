"""The gateway: only API.md's routes, limits on size, security headers."""

import re

import pytest
import requests

from tests.security.support import raw_request
from tests.support import assert_problem

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


# --- routes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
    ],
)
def test_public_auth_routes_reach_mini_auth_without_a_token(gateway, method, path):
    assert_problem(gateway.request(method, path, json={}), 400, "validation_error")


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/user/someone"),
        ("PATCH", "/api/v1/user/someone"),
        ("GET", "/billing/account/balance"),
        ("GET", "/billing/account/full"),
        ("GET", "/billing/account/operations"),
        ("POST", "/billing/account/operate"),
        ("GET", "/api/v1/order"),
        ("POST", "/api/v1/order"),
        ("GET", "/api/v1/order/1"),
        ("GET", "/api/v1/notification"),
    ],
)
def test_protected_routes_need_a_token(gateway, method, path):
    assert_problem(gateway.request(method, path, json={}), 401, "not_authenticated")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("GET", "/api/v1/auth/verify"),
        ("GET", "/api/v1/auth/"),
        ("POST", "/api/v1/auth/unknown"),
        ("POST", "/api/v1/auth/login/"),
        ("POST", "/api/v1/user"),
        ("POST", "/billing/account/new"),
        ("GET", "/billing"),
        ("POST", "/api/v1/notification"),
        ("POST", "/api/v1/notification/x"),
        ("GET", "/api/v2/order"),
        ("GET", "/api/v1/orders"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/admin/"),
        ("GET", "/admin/other/"),
        ("GET", "/docs/"),
        ("GET", "/static/other/x.css"),
        ("GET", "/healthz/../api/v1/auth/verify"),
        ("GET", "/api/v1/order/../../api/v1/auth/verify"),
        ("GET", "/api/v1/order/%2e%2e/%2e%2e/api/v1/auth/verify"),
        ("GET", "/api/v1/order%2f..%2f..%2fapi/v1/auth/verify"),
        ("GET", "/docs/auth/../../api/v1/auth/verify"),
        ("POST", "/admin/auth/../../api/v1/user"),
    ],
)
def test_nothing_else_is_routed_even_with_a_valid_token(secure_system, bob, method, path):
    token = bob.api.session.headers["Authorization"]
    status, headers, body = raw_request(
        secure_system.gateway_url, method, path, [("Authorization", token)], b"{}"
    )
    assert status == 404, (path, status, body[:200])
    assert headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("short", ["auth", "user", "billing", "order", "notif"])
def test_docs_and_admin_of_each_service_are_routed(gateway, short):
    assert gateway.get(f"/docs/{short}/schema.json").status_code == 200
    assert gateway.get(f"/admin/{short}/login/").status_code == 200


# --- security headers ---------------------------------------------------------------------


def assert_api_headers(response: requests.Response) -> None:
    for name, value in API_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Server"] == "nginx"  # no version
    assert not re.search(r"\d", response.headers["Server"])
    assert "X-Powered-By" not in response.headers


def test_api_answers_carry_the_security_headers(gateway, bob):
    for response in (
        bob.api.get("/billing/account/balance"),  # a service's 200
        bob.api.get("/api/v1/order/999999999"),  # a service's 404
        gateway.get("/billing/account/balance"),  # the gateway's 401
        gateway.get("/nothing"),  # the gateway's 404
        gateway.post("/api/v1/auth/login", {"username": bob.username, "password": bob.password}),
        gateway.get("/healthz"),
    ):
        assert_api_headers(response)


def test_frame_options_is_sent_once(bob):
    response = bob.api.get("/billing/account/balance")
    assert response.raw.headers.getlist("X-Frame-Options") == ["DENY"]


def test_admin_and_docs_keep_their_own_caching(gateway):
    response = gateway.get("/docs/order/schema.json")
    assert response.headers.get("Cache-Control") != "no-store"
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- size limits ----------------------------------------------------------------------------


def test_a_body_over_one_mib_is_413(gateway, bob):
    body = b'{"text": "' + b"a" * (1024 * 1024 + 1) + b'"}'
    for response in (
        gateway.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}),
        bob.api.post("/api/v1/order", data=body, headers={"Content-Type": "application/json"}),
    ):
        assert_problem(response, 413, "payload_too_large")
        assert_api_headers(response)


def test_a_chunked_body_over_one_mib_is_413(gateway):
    def chunks():
        for _ in range(17):
            yield b"a" * 65536

    response = gateway.post(
        "/api/v1/auth/register", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)


def test_a_header_too_large_is_431(gateway):
    response = gateway.get("/api/v1/order", headers={"X-Filler": "a" * 9000})
    assert_problem(response, 431, "headers_too_large")


def test_too_many_large_headers_are_431(gateway):
    headers = {f"X-Filler-{n}": "a" * 7000 for n in range(6)}
    assert_problem(gateway.get("/api/v1/order", headers=headers), 431)


def test_a_uri_too_long_is_414_problem_json(gateway, bob):
    for client in (gateway, bob.api):
        response = client.get("/api/v1/order", params={"page": "1" * 4100})
        assert_problem(response, 414, "uri_too_long")
    # Long but acceptable URIs still reach the service.
    response = bob.api.get("/api/v1/order", params={"x": "1" * 3500})
    assert response.status_code == 200


def test_the_gateways_own_429_and_5xx_carry_retry_after_but_a_services_are_untouched(gateway):
    # Proxied answers get no Retry-After from the gateway.
    assert "Retry-After" not in gateway.get("/nothing").headers


def test_a_flood_of_small_headers_is_no_server_error(gateway, bob):
    """Only Authorization goes to verify, so many headers cannot fail the auth subrequest
    (which the gateway would report as a 503): without a token it is the usual 401, with
    one the service answers (gunicorn's limit on header fields is raised above 120)."""
    headers = {f"X-Filler-{n}": "v" for n in range(120)}
    assert_problem(gateway.get("/api/v1/order", headers=headers), 401)
    response = bob.api.get("/api/v1/order", headers=headers)
    assert response.status_code == 200, response.text
