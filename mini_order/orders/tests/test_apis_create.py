"""POST /api/v1/order: input validation and who may order. The remote steps are faked."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"
POSITION = {"productId": 1, "price": 150, "quantity": 2}
ORDER = {"orderPositions": [POSITION], "shopId": 1}


def with_position(**changes):
    return {"orderPositions": [{**POSITION, **changes}]}


def without(key):
    return {"orderPositions": [{k: v for k, v in POSITION.items() if k != key}]}


@pytest.fixture
def alice(make_user_client):
    return make_user_client("alice")


def post_raw(client, body: str):
    return client.post(URL, data=body, content_type="application/json")


def test_valid_order_is_created(alice, fake_remote):
    response = alice.post(URL, ORDER, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "username", "shopId", "orderPositions", "totalCost", "status", "createdAt",
        "updatedAt",
    }  # fmt: skip
    assert body["username"] == "alice"
    assert body["shopId"] == 1
    assert body["orderPositions"] == [POSITION]
    assert body["totalCost"] == 300
    assert body["status"] == "PAID"


COURSE_ORDER = {
    "username": "alice",
    "totalCost": 19,
    "shopId": 1,
    "status": "NEW",
    "orderPositions": [
        {"productId": 111, "price": 3, "quantity": 5},
        {"productId": 112, "price": 4, "quantity": 1},
    ],
}


def test_the_course_clients_body_is_an_order(alice, fake_remote):
    response = alice.post(URL, COURSE_ORDER, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "PAID"
    assert body["shopId"] == 1
    assert body["totalCost"] == 19
    assert body["orderPositions"] == COURSE_ORDER["orderPositions"]


def test_digit_strings_are_the_same_integers_and_answered_as_numbers(alice, fake_remote):
    body = {"shopId": "0042", "orderPositions": [{"productId": "7", "price": 3, "quantity": "2"}]}
    response = alice.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["shopId"] == 42
    assert response.json()["orderPositions"] == [{"productId": 7, "price": 3, "quantity": 2}]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "orderPositions"),
        ({"orderPositions": []}, "orderPositions"),
        ({"orderPositions": [POSITION] * 101}, "orderPositions"),
        ({"orderPositions": "1 x product 1"}, "orderPositions"),
        ({"orderPositions": {"productId": 1}}, "orderPositions"),
        ({"orderPositions": [1]}, "orderPositions"),
        ({"orderPositions": None}, "orderPositions"),
        (with_position(quantity=0), "orderPositions"),
        (with_position(quantity=10_001), "orderPositions"),
        (with_position(quantity=1.5), "orderPositions"),
        (with_position(quantity=True), "orderPositions"),
        (with_position(quantity="3.0"), "orderPositions"),
        (with_position(quantity=None), "orderPositions"),
        (with_position(quantity=-1), "orderPositions"),
        (without("quantity"), "orderPositions"),
        (with_position(productId=0), "orderPositions"),
        (with_position(productId="1a"), "orderPositions"),
        (with_position(productId=" 1"), "orderPositions"),
        (with_position(productId=False), "orderPositions"),
        (with_position(productId=2_147_483_648), "orderPositions"),
        (without("productId"), "orderPositions"),
        (with_position(price=-1), "orderPositions"),
        (with_position(price=1.001), "orderPositions"),
        (with_position(price="1.001"), "orderPositions"),
        (with_position(price="abc"), "orderPositions"),
        (with_position(price="NaN"), "orderPositions"),
        (with_position(price=True), "orderPositions"),
        (with_position(price=None), "orderPositions"),
        (with_position(price=1_000_000_000), "orderPositions"),
        (without("price"), "orderPositions"),
        ({**ORDER, "totalCost": 0}, "totalCost"),
        ({**ORDER, "totalCost": -300}, "totalCost"),
        ({**ORDER, "totalCost": 300.001}, "totalCost"),
        ({**ORDER, "totalCost": "three hundred"}, "totalCost"),
        ({**ORDER, "totalCost": True}, "totalCost"),
        ({**ORDER, "totalCost": 1_000_000_000}, "totalCost"),
        ({**ORDER, "shopId": "shop-1"}, "shopId"),
        ({**ORDER, "shopId": 0}, "shopId"),
        ({**ORDER, "shopId": -1}, "shopId"),
        ({**ORDER, "shopId": 1.5}, "shopId"),
        ({**ORDER, "shopId": True}, "shopId"),
        ({**ORDER, "shopId": 2_147_483_648}, "shopId"),
        ({**ORDER, "shopId": "2147483648"}, "shopId"),
        ({**ORDER, "shopId": ""}, "shopId"),
        ({**ORDER, "shopId": [1]}, "shopId"),
        ({**ORDER, "username": 42}, "username"),
        # The positions add up to more than any amount may be, or to nothing.
        (with_position(price="999999999.99", quantity=2), "totalCost"),
        (with_position(price=0), "totalCost"),
    ],
)
def test_invalid_input_is_a_400_problem(alice, fake_remote, body, field):
    response = alice.post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert field in problem["errors"]
    assert Order.objects.count() == 0
    assert fake_remote.calls == []


def test_position_errors_name_the_position_and_field(alice, fake_remote):
    body = {"orderPositions": [POSITION, {**POSITION, "quantity": 0}]}
    errors = alice.post(URL, body, format="json").json()["errors"]
    # DRF keys a list's errors by the index of each invalid item.
    assert errors["orderPositions"] == {
        "1": {"quantity": ["Ensure this value is greater than or equal to 1."]}
    }


@pytest.mark.parametrize(
    "raw",
    [
        '{"orderPositions": [{"productId": 1, "price": 150, "quantity": 1e999999999}]}',
        '{"orderPositions": [{"productId": 1e999999999, "price": 150, "quantity": 1}]}',
        '{"orderPositions": [{"productId": 1, "price": 1e999999999, "quantity": 1}]}',
        '{"orderPositions": [{"productId": 1, "price": 150, "quantity": 1}], "totalCost": 1e-99}',
    ],
)
def test_huge_and_tiny_numbers_are_refused_quickly(alice, fake_remote, raw):
    response = post_raw(alice, raw)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{nope", "malformed_request"),
        # NaN and Infinity are not JSON.
        (
            '{"orderPositions": [{"productId": 1, "price": NaN, "quantity": 1}]}',
            "malformed_request",
        ),
        (
            '{"orderPositions": [{"productId": 1, "price": Infinity, "quantity": 1}]}',
            "malformed_request",
        ),
        # An empty body never reaches the parser (DRF reads it as no data): the
        # required fields are missing.
        ("", "validation_error"),
        ("[]", "validation_error"),  # JSON, but not the object the endpoint takes
        ('"order"', "validation_error"),
    ],
)
def test_malformed_or_non_object_body_is_a_400_problem(alice, fake_remote, raw, code):
    response = post_raw(alice, raw)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert Order.objects.count() == 0


def test_form_encoded_body_is_unsupported(alice, fake_remote):
    response = alice.post(URL, {"shopId": "x"})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_numbers_as_json_allows_integral_decimals_and_money_strings(alice, fake_remote):
    raw = '{"orderPositions": [{"productId": 7.0, "price": "131.50", "quantity": 2.0}]}'
    response = post_raw(alice, raw)
    assert response.status_code == 201
    assert response.json()["orderPositions"] == [{"productId": 7, "price": 131.5, "quantity": 2}]
    assert response.json()["totalCost"] == 263


def test_total_defaults_to_the_sum_of_positions(alice, fake_remote):
    body = {
        "orderPositions": [
            {"productId": 1, "price": "0.10", "quantity": 3},
            {"productId": 2, "price": 0, "quantity": 1},
            {"productId": 3, "price": 99.99, "quantity": 10_000},
        ]
    }
    response = alice.post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["totalCost"] == 999900.3
    assert response.json()["shopId"] is None


def test_matching_total_cost_is_accepted(alice, fake_remote):
    response = alice.post(URL, {**ORDER, "totalCost": "300.00"}, format="json")
    assert response.status_code == 201


def test_null_total_cost_and_shop_id_mean_absent(alice, fake_remote):
    body = {**with_position(), "totalCost": None, "shopId": None, "username": None}
    response = alice.post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["totalCost"] == 300


def test_total_cost_mismatch_is_a_422(alice, fake_remote):
    response = alice.post(URL, {**ORDER, "totalCost": 299.99}, format="json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "total_mismatch"
    assert response.json()["expectedTotalCost"] == 300
    assert Order.objects.count() == 0


def test_one_hundred_positions_are_accepted(alice, fake_remote):
    response = alice.post(URL, {"orderPositions": [POSITION] * 100}, format="json")
    assert response.status_code == 201
    assert len(response.json()["orderPositions"]) == 100
    assert response.json()["totalCost"] == 30_000


def test_username_of_the_caller_is_accepted(alice, fake_remote):
    response = alice.post(URL, {**ORDER, "username": "alice"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("roles", ["user", "user,admin"])
def test_username_of_someone_else_is_forbidden(make_user_client, fake_remote, roles):
    client = make_user_client("alice", roles=roles)
    response = client.post(URL, {**ORDER, "username": "bob"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Order.objects.count() == 0
    assert fake_remote.calls == []


def test_status_id_created_at_and_updated_at_are_ignored(alice, fake_remote):
    body = {
        **ORDER,
        "status": "CANCELLED",
        "id": 999,
        "createdAt": "2000-01-01T00:00:00Z",
        "updatedAt": "2000-01-01T00:00:00Z",
    }
    response = alice.post(URL, body, format="json")
    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json()["id"] == order.pk != 999
    assert order.status == "PAID"
    assert order.created_at.year > 2000


@pytest.mark.parametrize(
    "change, errors",
    [
        ({"discount": 100}, {"discount": ["Unknown field."]}),
        ({"totalcost": 1}, {"totalcost": ["Unknown field."]}),
        (
            {"orderPositions": [{"productId": 1, "price": 1, "quantity": 1, "id": 5}]},
            {"orderPositions": {"0": {"id": ["Unknown field."]}}},
        ),
    ],
)
def test_any_other_unknown_field_is_a_400_that_names_it(alice, fake_remote, change, errors):
    response = alice.post(URL, {**ORDER, **change}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert Order.objects.count() == 0 and fake_remote.calls == []


def test_a_repeated_key_is_a_400(alice, fake_remote):
    body = '{"orderPositions": [{"productId": 1, "price": 1, "price": 0, "quantity": 1}]}'
    response = alice.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert Order.objects.count() == 0


def test_anonymous_and_identity_less_requests_are_refused(anonymous_client, make_user_client):
    assert anonymous_client.post(URL, ORDER, format="json").status_code == 401
    assert make_user_client(None).post(URL, ORDER, format="json").status_code == 401


def test_bad_idempotency_key_is_a_400(alice, fake_remote):
    response = alice.post(URL, ORDER, format="json", HTTP_IDEMPOTENCY_KEY="has space")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
