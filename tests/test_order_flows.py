"""The order flow of API.md, end to end through the gateway."""

import uuid

from tests.support import assert_problem

TWO_AT_150 = [{"productId": 1, "price": 150, "quantity": 2}]


def test_order_that_fits_is_paid_and_notified(alice):
    response = alice.order(TWO_AT_150, shopId=7)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "PAID"
    assert order["totalCost"] == 300
    assert order["username"] == alice.username
    assert order["orderPositions"] == [{"productId": 1, "price": 150, "quantity": 2}]
    assert alice.balance() == 700

    notes = alice.notifications(parentType="ORDER", parentId=order["id"])
    assert [n["notificationType"] for n in notes] == ["SUCCESS"]
    assert notes[0]["deliveryStatus"] == "SENT"
    assert notes[0]["contact"]["email"] == f"{alice.username}@example.com"


def test_order_that_does_not_fit_changes_no_balance_and_notifies_fail(alice):
    response = alice.order([{"productId": 2, "price": "1000.01", "quantity": 1}])
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "INSUFFICIENT_FUNDS"
    assert alice.balance() == 1000
    notes = alice.notifications(parentType="ORDER", parentId=order["id"])
    assert [n["notificationType"] for n in notes] == ["FAIL"]


def test_orders_are_listed_newest_first_and_readable_by_id(alice):
    first = alice.order(TWO_AT_150).json()
    second = alice.order([{"productId": 3, "price": 1, "quantity": 1}]).json()
    listing = alice.api.get("/api/v1/order")
    assert listing.status_code == 200
    assert [o["id"] for o in listing.json()["results"]] == [second["id"], first["id"]]
    one = alice.api.get(f"/api/v1/order/{first['id']}")
    assert one.status_code == 200 and one.json()["status"] == "PAID"


def test_repeated_order_with_same_key_charges_once(alice):
    key = str(uuid.uuid4())
    first = alice.order(TWO_AT_150, key=key)
    again = alice.order(TWO_AT_150, key=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert alice.balance() == 700


def test_same_key_with_other_payload_is_422(alice):
    key = str(uuid.uuid4())
    alice.order(TWO_AT_150, key=key)
    other = alice.order([{"productId": 1, "price": 150, "quantity": 3}], key=key)
    assert_problem(other, 422, "idempotency_key_reused")


def test_payment_is_recorded_against_the_order(alice):
    order = alice.order(TWO_AT_150).json()
    operations = alice.api.get("/billing/account/operations", params={"orderId": order["id"]})
    assert operations.status_code == 200
    assert [(op["type"], op["amount"]) for op in operations.json()["results"]] == [("PAYMENT", 300)]
