"""A registration whose downstream step fails leaves no usable user; a repeat completes it."""

import time

from tests.support import PASSWORD, assert_problem, login, registration_body, unique_username


def register_until(gateway, body, status, timeout=15.0):
    """Repeat the same registration until it answers `status` (breakers need a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        response = gateway.post("/api/v1/auth/register", body)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_registration_with_billing_down_completes_when_repeated(system, gateway):
    body = registration_body(unique_username("rec"))
    system.stop_service("billing")
    try:
        failed = gateway.post("/api/v1/auth/register", body)
        problem = assert_problem(failed, 503, "dependency_unavailable")
        assert failed.headers.get("Retry-After"), failed.headers
        assert problem["detail"]
        cannot = gateway.post(
            "/api/v1/auth/login", {"username": body["username"], "password": PASSWORD}
        )
        assert_problem(cannot, 401)
    finally:
        system.start_service("billing")
        system.wait_ready(["billing"])

    completed = register_until(gateway, body, 201)
    assert completed.status_code == 201, completed.text
    me = gateway.as_user(login(gateway, body["username"])["accessToken"])
    assert me.get("/billing/account/balance").json()["balance"] == 0
    assert me.get(f"/api/v1/user/{body['username']}").status_code == 200


def test_registration_with_profiles_down_completes_when_repeated(system, gateway):
    body = registration_body(unique_username("rec"))
    system.stop_service("user")
    try:
        assert_problem(gateway.post("/api/v1/auth/register", body), 503, "dependency_unavailable")
    finally:
        system.start_service("user")
        system.wait_ready(["user"])
    assert register_until(gateway, body, 201).status_code == 201
    assert login(gateway, body["username"])["accessToken"]
