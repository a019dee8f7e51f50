"""GET /api/v1/order and /api/v1/order/{id}: visibility, filters, pagination."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"


@pytest.fixture
def alice(make_user_client):
    return make_user_client("alice")


@pytest.fixture
def admin(make_user_client):
    return make_user_client("root", roles="user,admin")


def ids(response) -> list[int]:
    return [order["id"] for order in response.json()["results"]]


def test_order_body(alice):
    order = OrderFactory(
        username="alice",
        shop_id=1,
        status="PAID",
        total_cost=Decimal("131.50"),
        positions=[
            {"product_id": 3, "price": Decimal("100.00"), "quantity": 1},
            {"product_id": 4, "price": Decimal("31.50"), "quantity": 1},
        ],
    )
    body = alice.get(f"{URL}/{order.pk}").json()
    assert body == {
        "id": order.pk,
        "username": "alice",
        "shopId": 1,
        "orderPositions": [
            {"productId": 3, "price": 100, "quantity": 1},
            {"productId": 4, "price": 31.5, "quantity": 1},
        ],
        "totalCost": 131.5,
        "status": "PAID",
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert body["createdAt"].endswith("Z")


def test_other_users_order_and_missing_order_are_404(alice):
    order = OrderFactory(username="bob")
    for url in (f"{URL}/{order.pk}", f"{URL}/{order.pk + 1000}", f"{URL}/99999999999999999999"):
        response = alice.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


def test_non_numeric_id_is_404(alice):
    assert alice.get(f"{URL}/abc").status_code == 404


def test_admin_and_internal_callers_see_any_order(admin, make_service_client):
    order = OrderFactory(username="bob")
    assert admin.get(f"{URL}/{order.pk}").status_code == 200
    assert make_service_client("mini_notif", "carol").get(f"{URL}/{order.pk}").status_code == 200


def test_list_shows_own_orders_newest_first(alice):
    now = timezone.now()
    old = OrderFactory(username="alice", created_at=now - timedelta(hours=1))
    new = OrderFactory(username="alice", created_at=now)
    OrderFactory(username="bob")
    response = alice.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ids(response) == [new.pk, old.pk]


def test_user_cannot_list_someone_elses_orders(alice):
    OrderFactory(username="bob")
    response = alice.get(URL, {"username": "bob"})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_admin_lists_everyone_and_filters_by_username(admin):
    alices = OrderFactory(username="alice")
    OrderFactory(username="bob")
    assert admin.get(URL).json()["count"] == 2
    assert ids(admin.get(URL, {"username": "alice"})) == [alices.pk]


def test_status_filter_is_case_insensitive(alice):
    paid = OrderFactory(username="alice", status="PAID")
    OrderFactory(username="alice", status="NEW")
    assert ids(alice.get(URL, {"status": "paid"})) == [paid.pk]
    assert ids(alice.get(URL, {"status": "PAID"})) == [paid.pk]


@pytest.mark.parametrize("params", [{"status": "SHIPPED"}, {"username": "no spaces!"}])
def test_bad_filters_are_a_400(alice, params):
    response = alice.get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_pagination(alice):
    now = timezone.now()
    orders = [
        OrderFactory(username="alice", created_at=now - timedelta(minutes=i)) for i in range(25)
    ]
    first = alice.get(URL).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (25, 20, None)
    assert "page=2" in first["next"]
    page = alice.get(URL, {"page": 2, "pageSize": 10}).json()
    assert [o["id"] for o in page["results"]] == [o.pk for o in orders[10:20]]
    assert len(alice.get(URL, {"pageSize": 1000}).json()["results"]) == 25  # capped at 100
    assert alice.get(URL, {"page": 99}).status_code == 404


def test_list_makes_a_fixed_number_of_queries(alice, django_assert_num_queries):
    for _ in range(10):
        OrderFactory(
            username="alice",
            positions=[{"product_id": n, "price": Decimal("1.00"), "quantity": 1} for n in (1, 2)],
        )
    with django_assert_num_queries(3):  # count, the page of orders, their positions
        response = alice.get(URL)
    assert all(len(order["orderPositions"]) == 2 for order in response.json()["results"])


def test_reading_needs_an_identity(anonymous_client, make_user_client):
    order = OrderFactory(username="alice")
    assert anonymous_client.get(URL).status_code == 401
    assert make_user_client(None).get(f"{URL}/{order.pk}").status_code == 401


def test_unsupported_method_is_a_405_problem(alice):
    order = OrderFactory(username="alice")
    response = alice.delete(f"{URL}/{order.pk}")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Order.objects.count() == 1


def test_health_and_docs_need_no_token(anonymous_client):
    assert anonymous_client.get("/healthz").json()["service"] == "mini_order"
    assert anonymous_client.get("/readyz").status_code == 200
    assert anonymous_client.get("/docs/order/schema.json").status_code == 200
