"""Hostile or careless input gets a 400/422 problem+json, never a 500."""

import pytest

from tests.support import assert_problem, registration_body, unique_username

GOOD_POSITION = {"productId": 1, "price": 10, "quantity": 1}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orderPositions": []},
        {"orderPositions": "many"},
        {"orderPositions": [GOOD_POSITION] * 101},
        {"orderPositions": [{**GOOD_POSITION, "quantity": 0}]},
        {"orderPositions": [{**GOOD_POSITION, "quantity": 10001}]},
        {"orderPositions": [{**GOOD_POSITION, "quantity": 1.5}]},
        {"orderPositions": [{**GOOD_POSITION, "quantity": True}]},
        {"orderPositions": [{**GOOD_POSITION, "price": -1}]},
        {"orderPositions": [{**GOOD_POSITION, "price": "1.001"}]},
        {"orderPositions": [{**GOOD_POSITION, "price": "ten"}]},
        {"orderPositions": [{**GOOD_POSITION, "price": 1e12}]},
        {"orderPositions": [{"productId": 1, "price": 0, "quantity": 1}]},
        {"orderPositions": [{"price": 10, "quantity": 1}]},
        {"orderPositions": [GOOD_POSITION], "totalCost": -10},
    ],
)
def test_bad_orders_are_400(alice, body):
    response = alice.api.post("/api/v1/order", body)
    assert_problem(response, 400, "validation_error")
    assert alice.balance() == 1000


def test_total_mismatch_is_422(alice):
    response = alice.api.post("/api/v1/order", {"orderPositions": [GOOD_POSITION], "totalCost": 11})
    assert_problem(response, 422, "total_mismatch")


def test_ordering_for_someone_else_is_refused(alice, bob):
    response = alice.api.post(
        "/api/v1/order", {"orderPositions": [GOOD_POSITION], "username": bob.username}
    )
    assert_problem(response, 403)


@pytest.mark.parametrize(
    "raw",
    ["{not json", "[1, 2]", '{"orderPositions": NaN}', "", '"text"', "{" * 5000 + "}" * 5000],
)
def test_malformed_json_is_400(alice, raw):
    response = alice.api.request(
        "POST", "/api/v1/order", data=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "DEPOSIT", "amount": 0}, "amount"),
        ({"type": "DEPOSIT", "amount": -5}, "amount"),
        ({"type": "DEPOSIT", "amount": "0.001"}, "amount"),
        ({"type": "DEPOSIT", "amount": "1e3"}, "amount"),
        ({"type": "DEPOSIT", "amount": True}, "amount"),
        ({"type": "DEPOSIT", "amount": 1000000000}, "amount"),
        ({"type": "DEPOSIT", "amount": "Infinity"}, "amount"),
        ({"type": "DEPOSIT"}, "amount"),
        ({"type": "STEAL", "amount": 5}, "type"),
        ({"type": 7, "amount": 5}, "type"),
        ({"amount": 5}, "type"),
    ],
)
def test_bad_operations_are_400(alice, body, field):
    problem = assert_problem(
        alice.api.post("/billing/account/operate", body), 400, "validation_error"
    )
    assert field in problem["errors"]
    assert alice.balance() == 1000


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"username": "a b"}, "username"),
        ({"username": "x"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"password": 12345678}, "password"),
        ({"phone": "call me maybe"}, "phone"),
    ],
)
def test_bad_registrations_are_400(gateway, changes, field):
    body = {**registration_body(unique_username()), **changes}
    problem = assert_problem(gateway.post("/api/v1/auth/register", body), 400, "validation_error")
    assert field in problem["errors"]


def test_too_large_body_is_413(alice):
    response = alice.api.request(
        "POST",
        "/api/v1/order",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_unsupported_content_type_is_415(alice):
    response = alice.api.request(
        "POST", "/api/v1/order", data="a=b", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415)
