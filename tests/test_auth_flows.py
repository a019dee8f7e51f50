"""Registration, login, refresh and logout through the gateway."""

import time

from tests.support import PASSWORD, assert_problem, login, registration_body, unique_username


def test_registration_creates_profile_and_account(gateway):
    username = unique_username()
    response = gateway.post("/api/v1/auth/register", registration_body(username, login=True))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == username and body["email"] == f"{username}@example.com"
    assert body["accessToken"] and body["refreshToken"]

    me = gateway.as_user(body["accessToken"])
    profile = me.get(f"/api/v1/user/{username}")
    assert profile.status_code == 200, profile.text
    assert profile.json()["firstName"] == "Test"
    account = me.get("/billing/account/balance")
    assert account.status_code == 200, account.text
    assert account.json()["balance"] == 0


def test_taken_username_is_409(gateway, alice):
    response = gateway.post("/api/v1/auth/register", registration_body(alice.username))
    assert_problem(response, 409, "username_taken")


def test_login_with_wrong_password_is_401(gateway, alice):
    response = gateway.post(
        "/api/v1/auth/login", {"username": alice.username, "password": "wrong-password"}
    )
    assert_problem(response, 401)


def test_login_answers_bearer_tokens(gateway, alice):
    tokens = login(gateway, alice.username)
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] > 0


def test_refresh_rotates_and_the_old_token_stops_working(gateway, alice):
    old = login(gateway, alice.username)["refreshToken"]
    rotated = gateway.post("/api/v1/auth/refresh", {"refreshToken": old})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["accessToken"] and new["refreshToken"] != old
    assert gateway.as_user(new["accessToken"]).get("/billing/account/balance").status_code == 200
    assert_problem(gateway.post("/api/v1/auth/refresh", {"refreshToken": old}), 401)


def test_logout_revokes_refresh_and_access_tokens(gateway, alice):
    tokens = login(gateway, alice.username)
    me = gateway.as_user(tokens["accessToken"])
    assert me.get("/billing/account/balance").status_code == 200
    response = me.post("/api/v1/auth/logout", {"refreshToken": tokens["refreshToken"]})
    assert response.status_code == 204, response.text
    assert_problem(
        gateway.post("/api/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}), 401
    )
    # The gateway caches a verified token for MINI_GATEWAY_AUTH_CACHE_TTL (1s here);
    # nginx counts cache validity in whole seconds, so allow one more second.
    deadline = time.monotonic() + 2.5
    while me.get("/billing/account/balance").status_code == 200:
        assert time.monotonic() < deadline, "a logged-out token still passes after the cache TTL"
        time.sleep(0.2)
    assert_problem(me.get("/billing/account/balance"), 401)


def test_password_is_checked_by_django_validators(gateway):
    body = registration_body(unique_username(), password="123")
    problem = assert_problem(gateway.post("/api/v1/auth/register", body), 400, "validation_error")
    assert "password" in problem["errors"]


def test_same_registration_with_same_key_is_replayed(gateway):
    body = registration_body(unique_username())
    headers = {"Idempotency-Key": f"reg-{body['username']}"}
    first = gateway.post("/api/v1/auth/register", body, headers=headers)
    again = gateway.post("/api/v1/auth/register", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert login(gateway, body["username"], PASSWORD)["accessToken"]
