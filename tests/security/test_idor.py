"""A user reaches only their own objects (another's is a 404); an admin reads everyone's."""

import pytest

from tests.support import Api, assert_problem, login

ADMIN_PASSWORD = "Adm1n-Password-For-Tests"


@pytest.fixture(scope="module")
def admin(secure_system, gateway) -> Api:
    """A staff user of mini_auth: its tokens carry the admin role."""
    code = (
        "from django.contrib.auth import get_user_model as m; "
        f"m().objects.create_user('secadmin', password={ADMIN_PASSWORD!r}, is_staff=True)"
    )
    result = secure_system.manage("auth", "shell", "-c", code, capture=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return gateway.as_user(login(gateway, "secadmin", ADMIN_PASSWORD)["accessToken"])


@pytest.fixture
def alices_order(alice):
    response = alice.order([{"productId": 1, "price": 10, "quantity": 1}])
    assert response.status_code == 201, response.text
    return response.json()


# --- orders ------------------------------------------------------------------------------


def test_another_users_order_is_404_and_never_listed(alice, bob, alices_order):
    assert_problem(bob.api.get(f"/api/v1/order/{alices_order['id']}"), 404)
    # A user's list is their own whatever the filter: ?username= only narrows it
    # (API.md: "paginated own orders"), so naming someone else lists nothing.
    for params in ({}, {"pageSize": 100}):
        listed = bob.api.get("/api/v1/order", params=params)
        assert listed.status_code == 200, listed.text
        assert all(o["username"] == bob.username for o in listed.json()["results"])
    named = bob.api.get("/api/v1/order", params={"username": alice.username})
    assert named.status_code == 200, named.text
    assert named.json()["results"] == []


def test_an_unknown_order_and_anothers_look_the_same(bob, alices_order):
    theirs = bob.api.get(f"/api/v1/order/{alices_order['id']}")
    unknown = bob.api.get("/api/v1/order/999999999")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["code"] == unknown.json()["code"]


def test_an_order_cannot_be_placed_for_someone_else(alice, bob):
    before = alice.balance()
    response = bob.order([{"productId": 1, "price": 10, "quantity": 1}], username=alice.username)
    # API.md: `username`, if given, must be the caller; mini_order's OpenAPI: else a 403.
    assert_problem(response, 403, "permission_denied")
    orders = alice.api.get("/api/v1/order").json()["results"]
    assert all(o["username"] == alice.username for o in orders)
    assert alice.balance() == before


# --- profiles ----------------------------------------------------------------------------


def test_another_users_profile_is_404_to_read_and_to_change(alice, bob):
    assert_problem(bob.api.get(f"/api/v1/user/{alice.username}"), 404)
    change = bob.api.patch(f"/api/v1/user/{alice.username}", {"email": "mallory@example.com"})
    assert_problem(change, 404)
    assert alice.api.get(f"/api/v1/user/{alice.username}").json()["email"] != (
        "mallory@example.com"
    )


def test_a_profile_lookup_by_another_case_is_no_way_around(alice, bob):
    assert_problem(bob.api.get(f"/api/v1/user/{alice.username.upper()}"), 404)


# --- accounts and operations -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["WITHDRAWAL", "DEPOSIT", "PAYMENT"])
def test_operating_on_another_users_account_is_refused(alice, bob, kind):
    body = {"type": kind, "amount": 1, "account": {"username": alice.username}}
    if kind == "PAYMENT":
        body["orderId"] = 1
    before = alice.balance()
    response = bob.api.post("/billing/account/operate", body)
    # API.md: `account.username` must be the caller (mini_billing's OpenAPI: a 403 whether
    # that account exists or not), and a user's PAYMENT is a 403 before any other validation.
    assert_problem(response, 403, "permission_denied")
    assert alice.balance() == before


def test_account_reads_are_always_the_callers_own(alice, bob, alices_order):
    for path in ("/billing/account/balance", "/billing/account/full"):
        body = bob.api.get(path, params={"username": alice.username}).json()
        assert body["username"] == bob.username
    operations = bob.api.get(
        "/billing/account/operations", params={"orderId": alices_order["id"]}
    ).json()
    assert operations["results"] == []
    mine = bob.api.get("/billing/account/operations", params={"username": alice.username}).json()
    assert all(op.get("orderId") != alices_order["id"] for op in mine["results"])


# --- notifications -----------------------------------------------------------------------


def test_another_users_notifications_are_never_listed(alice, bob, alices_order):
    assert alice.notifications(parentId=alices_order["id"])  # alice has hers
    own = bob.api.get("/api/v1/notification")
    assert own.status_code == 200, own.text
    assert all(n["username"] == bob.username for n in own.json()["results"])
    # Valid filters only narrow one's own list (?username= included): naming hers finds nothing.
    for filters in (
        {"username": alice.username},
        {"parentType": "ORDER", "parentId": alices_order["id"]},
    ):
        response = bob.api.get("/api/v1/notification", params=filters)
        assert response.status_code == 200, response.text
        assert response.json()["results"] == []


# --- admin -----------------------------------------------------------------------------------


def test_an_admin_reads_everyones_order_and_profile(admin, alice, alices_order):
    assert admin.get(f"/api/v1/order/{alices_order['id']}").status_code == 200
    assert admin.get(f"/api/v1/user/{alice.username}").status_code == 200
    listed = admin.get("/api/v1/order", params={"username": alice.username}).json()["results"]
    assert alices_order["id"] in [o["id"] for o in listed]
    assert {o["username"] for o in listed} == {alice.username}
