"""`manage_all.py story`: one order's and one user's story, on a real system.

A new user with 100 on their account places a paid order (25) and one they
cannot pay (5000) through the gateway, each with a request id of the test's
own; then the operator's commands tell what every service, log and trace
knows about them.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.support import register_user
from tools.manage_all import REPO_ROOT

SERVICES = ["mini_auth", "mini_user", "mini_billing", "mini_order", "mini_notif"]


def manage_all_cli(system, *args: str) -> subprocess.CompletedProcess:
    """manage_all.py as an operator runs it, on the test system's var dir."""
    return subprocess.run(
        [sys.executable, "manage_all.py", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "MINI_VAR_DIR": str(system.var_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def place(user, price: int, request_id: str) -> dict:
    response = user.api.post(
        "/api/v1/order",
        {"orderPositions": [{"productId": 3, "price": price, "quantity": 1}]},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def orders(observed_gateway):
    user = register_user(observed_gateway, balance=100, prefix="story")
    paid_request, refused_request = (f"story-{uuid.uuid4().hex[:12]}" for _ in range(2))
    paid = place(user, 25, paid_request)
    refused = place(user, 5000, refused_request)
    assert (paid["status"], refused["status"]) == ("PAID", "INSUFFICIENT_FUNDS")
    return {
        "user": user,
        "paid": {**paid, "request_id": paid_request},
        "refused": {**refused, "request_id": refused_request},
    }


def story_json(system, *args: str) -> dict:
    result = manage_all_cli(system, "story", *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def paid_story(observed_system, orders):
    return story_json(observed_system, "order", str(orders["paid"]["id"]))


@pytest.fixture(scope="module")
def refused_story(observed_system, orders):
    return story_json(observed_system, "order", str(orders["refused"]["id"]))


@pytest.fixture(scope="module")
def user_story(observed_system, orders):
    return story_json(observed_system, "user", orders["user"].username)


def test_the_json_document_of_an_order(paid_story, orders):
    assert set(paid_story) == {
        "kind", "orderId", "username", "outcome", "services", "timeline", "audit", "requests",
    }  # fmt: skip
    assert (paid_story["kind"], paid_story["orderId"]) == ("order", orders["paid"]["id"])
    assert list(paid_story["services"]) == ["mini_order", "mini_billing", "mini_notif", "mini_user"]
    times = [event["time"] for event in paid_story["timeline"]]
    assert times == sorted(times)


def test_a_paid_orders_story_has_its_payment_notification_and_contact(paid_story, orders):
    username = orders["user"].username
    services = paid_story["services"]
    order = services["mini_order"]["order"]
    assert (order["status"], order["totalCost"], order["notifiedStatus"]) == (
        "PAID",
        "25.00",
        "PAID",
    )
    [payment] = services["mini_billing"]["payments"]
    assert (payment["type"], payment["amount"], payment["username"]) == (
        "PAYMENT",
        "25.00",
        username,
    )
    assert paid_story["outcome"]["reason"] == f"paid: PAYMENT #{payment['id']} of 25.00"
    [notification] = services["mini_notif"]["notifications"]
    assert (notification["notificationType"], notification["deliveryStatus"]) == ("SUCCESS", "SENT")
    assert notification["contactEmail"] == services["mini_user"]["profile"]["email"]
    events = [event["event"] for event in paid_story["timeline"]]
    for kind in ("order.created", "operation.payment", "notification.sent", "order.written"):
        assert kind in events
    assert paid_story["audit"]["ok"] is True
    assert {row["name"]: row["checked"] for row in paid_story["audit"]["invariants"]}[
        "paid orders"
    ] == 1


def test_a_paid_orders_request_is_found_with_its_lines_and_trace(paid_story, orders):
    [request] = paid_story["requests"]
    assert request["requestId"] == orders["paid"]["request_id"]
    # Billing's PAYMENT line names the order; the POST was running when the order was created.
    assert any(why.startswith("mini_billing logged") for why in request["foundBy"])
    assert any("was running when the order row was created" in why for why in request["foundBy"])
    assert {line["service"] for line in request["logs"]} >= {
        "gateway",
        "mini_order",
        "mini_billing",
        "mini_notif",
    }
    [trace] = request["traces"]
    assert {span["service"] for span in trace["spans"]} >= {"gateway", "mini_order", "mini_billing"}


def test_a_refused_orders_story_says_why_it_was_not_paid(refused_story, orders):
    services = refused_story["services"]
    assert services["mini_order"]["order"]["status"] == "INSUFFICIENT_FUNDS"
    assert services["mini_billing"]["payments"] == []
    [answer] = services["mini_billing"]["paymentRequests"]
    assert (answer["responseStatus"], answer["responseBody"]["code"]) == (402, "insufficient_funds")
    assert refused_story["outcome"]["reason"] == (
        "mini_billing declined the payment: 402 insufficient_funds: "
        "The balance does not cover 5000.00"
    )
    [notification] = services["mini_notif"]["notifications"]
    assert notification["notificationType"] == "FAIL"
    [request] = refused_story["requests"]
    assert request["requestId"] == orders["refused"]["request_id"]
    assert refused_story["audit"]["ok"] is True


def test_the_order_story_as_text(observed_system, orders):
    result = manage_all_cli(observed_system, "story", "order", str(orders["refused"]["id"]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    username = orders["user"].username
    assert (
        lines[0]
        == f"order {orders['refused']['id']} of {username}: INSUFFICIENT_FUNDS, total 5000.00"
    )
    assert "audit of this order: OK, 5 invariants hold" in lines
    assert f"request {orders['refused']['request_id']}: POST /api/v1/order → 201 by {username}" in (
        result.stdout
    )
    assert "trace " in result.stdout  # the waterfall's head line


def test_a_users_story_has_every_services_rows(user_story, orders):
    username = orders["user"].username
    services = user_story["services"]
    assert (user_story["kind"], list(services)) == ("user", SERVICES)
    user = services["mini_auth"]["user"]
    assert (user["username"], user["isActive"]) == (username, True)
    assert "password" not in user
    assert services["mini_user"]["profile"]["email"] == f"{username}@example.com"
    assert services["mini_billing"]["account"]["balance"] == "75.00"
    assert [op["type"] for op in services["mini_billing"]["operations"]] == ["PAYMENT", "DEPOSIT"]
    [refused] = services["mini_billing"]["refusedPayments"]
    assert (refused["key"], refused["responseStatus"]) == (
        f"order-{orders['refused']['id']}-payment",
        402,
    )
    assert [order["id"] for order in services["mini_order"]["orders"]] == [
        orders["refused"]["id"],
        orders["paid"]["id"],
    ]
    assert services["mini_notif"]["notificationsTotal"] == 2
    assert user_story["audit"]["ok"] is True
    times = [event["time"] for event in user_story["timeline"]]
    assert times == sorted(times)


def test_an_unknown_order_or_user_is_a_clear_error(observed_system):
    result = manage_all_cli(observed_system, "story", "order", "987654321")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "manage_all: no order 987654321: mini_order, mini_billing and mini_notif have no "
        "record of it"
    )
    result = manage_all_cli(observed_system, "story", "user", "nobody-at-all")
    assert result.returncode == 1
    assert "no user 'nobody-at-all': no service has a record of that name" in result.stderr
    result = manage_all_cli(observed_system, "story", "order", "twelve")
    assert result.returncode == 2
    assert "'twelve' is not a positive whole number" in result.stderr
