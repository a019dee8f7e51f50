"""Who may see and do what, through the gateway and around it."""

import pytest
import requests

from tests.support import assert_problem


def test_another_users_order_is_404(alice, bob):
    order = alice.order([{"productId": 1, "price": 10, "quantity": 1}]).json()
    assert_problem(bob.api.get(f"/api/v1/order/{order['id']}"), 404)
    assert order["id"] not in [o["id"] for o in bob.api.get("/api/v1/order").json()["results"]]


def test_another_users_profile_is_404_to_read_and_to_change(alice, bob):
    assert_problem(bob.api.get(f"/api/v1/user/{alice.username}"), 404)
    assert_problem(bob.api.patch(f"/api/v1/user/{alice.username}", {"phone": "+1 555 0199"}), 404)
    own = alice.api.patch(f"/api/v1/user/{alice.username}", {"phone": "+1 555 0199"})
    assert own.status_code == 200 and own.json()["phone"] == "+1 555 0199"


def test_another_users_notifications_are_not_listed(alice, bob):
    alice.order([{"productId": 1, "price": 10, "quantity": 1}])
    assert all(n["username"] == bob.username for n in bob.notifications())


def test_operating_on_another_users_account_is_refused(alice, bob):
    response = bob.api.post(
        "/billing/account/operate",
        {"type": "WITHDRAWAL", "amount": 1, "account": {"username": alice.username}},
    )
    # Not a 404: mini_billing's OpenAPI makes naming another account a 403 whether it
    # exists or not, so the answer tells nothing about alice.
    assert_problem(response, 403, "permission_denied")
    assert alice.balance() == 1000


def test_payment_from_a_user_is_403(alice):
    response = alice.api.post(
        "/billing/account/operate", {"type": "PAYMENT", "amount": 1, "orderId": 1}
    )
    assert_problem(response, 403)
    assert alice.balance() == 1000


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/user"),
        ("POST", "/billing/account/new"),
        ("POST", "/api/v1/notification"),
        ("GET", "/api/v1/auth/verify"),
        ("GET", "/healthz/../api/v1/auth/verify"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/nothing/here"),
    ],
)
def test_internal_and_unknown_endpoints_are_404_from_outside(alice, method, path):
    body = {"username": alice.username, "email": "x@example.com"} if method == "POST" else None
    assert_problem(alice.api.request(method, path, json=body), 404)


def test_forged_identity_headers_are_ignored(gateway, alice, bob):
    forged = {
        "X-Username": alice.username,
        "X-Roles": "user,admin",
        "X-Service": "mini_order",
        "X-Internal-Token": "guess",
    }
    # With bob's token the gateway overwrites the identity with bob's.
    own = bob.api.get("/billing/account/balance", headers=forged)
    assert own.status_code == 200 and own.json()["username"] == bob.username
    assert_problem(bob.api.get(f"/api/v1/user/{alice.username}", headers=forged), 404)
    # Without a token the forged headers get nobody in.
    assert_problem(gateway.get("/billing/account/balance", headers=forged), 401)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-jwt", "Basic YTpi", "Bearer a.b.c"]
)
def test_missing_or_bad_tokens_are_401(gateway, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert_problem(gateway.get("/api/v1/order", headers=headers), 401)


def test_services_refuse_calls_without_the_internal_token(system, alice):
    for name in ("user", "billing", "order", "notif"):
        response = requests.get(
            f"{system.url(name)}/api/v1/order", headers={"X-Username": alice.username}, timeout=5
        )
        assert_problem(response, 401, "not_authenticated")
    response = requests.get(
        f"{system.url('billing')}/billing/account/balance",
        headers={"X-Username": alice.username, "X-Service": "mini_order"},
        timeout=5,
    )
    assert_problem(response, 401)


def test_gateway_sets_and_echoes_request_ids(gateway, alice):
    assert (
        alice.api.get("/api/v1/order", headers={"X-Request-ID": "trace-me.1"}).headers[
            "X-Request-ID"
        ]
        == "trace-me.1"
    )
    generated = gateway.get("/api/v1/order", headers={"X-Request-ID": "bad id"})
    assert generated.headers["X-Request-ID"] not in ("", "bad id")


def test_docs_and_admin_are_routed(gateway):
    for short in ("auth", "user", "billing", "order", "notif"):
        schema = gateway.get(f"/docs/{short}/schema.json")
        assert schema.status_code == 200, (short, schema.status_code)
        assert "openapi" in schema.text[:200]
        admin = gateway.get(f"/admin/{short}/login/")
        assert admin.status_code == 200 and "csrf" in admin.text.lower()
