from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notification"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def test_user_lists_own_notifications_newest_first(make_user_client):
    now = timezone.now()
    older = NotificationFactory(username="alice", created_at=now - timedelta(minutes=5))
    newer = NotificationFactory(username="alice", created_at=now)
    NotificationFactory(username="bob")

    response = make_user_client("alice").get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ids(response) == [newer.pk, older.pk]
    item = response.json()["results"][0]
    assert item["username"] == "alice"
    assert item["contact"] == {"email": "alice@example.com", "phone": None}
    assert item["deliveryStatus"] == "SENT"


def test_filters(make_user_client):
    order = NotificationFactory(parent_type="ORDER", parent_id="17")
    NotificationFactory(parent_type="ORDER", parent_id="18")
    failed = NotificationFactory(
        parent_type="PAYMENT", parent_id="17", notification_type=Notification.Type.FAIL
    )
    client = make_user_client("alice")

    assert ids(client.get(URL, {"parentType": "order", "parentId": "17"})) == [order.pk]
    assert ids(client.get(URL, {"parentType": "ORDER", "parentId": "017"})) == [order.pk]
    assert set(ids(client.get(URL, {"parentId": 17}))) == {order.pk, failed.pk}
    assert ids(client.get(URL, {"notificationType": "Fail"})) == [failed.pk]
    assert ids(client.get(URL, {"notificationType": "INFO"})) == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"parentType": "INVOICE"}, "parentType"),
        ({"notificationType": "urgent"}, "notificationType"),
        ({"parentId": "a b"}, "parentId"),
        ({"parentType": "ORDER", "parentId": "alice"}, "parentId"),
        ({"username": "x"}, "username"),
    ],
)
def test_invalid_filters_are_400(make_user_client, params, field):
    response = make_user_client("alice").get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_pagination(make_user_client):
    NotificationFactory.create_batch(25)
    client = make_user_client("alice")

    first = client.get(URL, {"pageSize": 10})
    last = client.get(URL, {"pageSize": 10, "page": 3})
    capped = client.get(URL, {"pageSize": 1000})

    assert first.json()["count"] == 25
    assert len(first.json()["results"]) == 10
    assert "page=2" in first.json()["next"]
    assert first.json()["previous"] is None
    assert len(last.json()["results"]) == 5
    assert last.json()["next"] is None
    assert len(capped.json()["results"]) == 25


def test_admin_sees_everyone_and_filters_by_username(make_user_client):
    NotificationFactory(username="alice")
    bob = NotificationFactory(username="bob")
    admin = make_user_client("root", roles="user,admin")

    assert admin.get(URL).json()["count"] == 2
    assert ids(admin.get(URL, {"username": "bob"})) == [bob.pk]


def test_user_cannot_list_someone_else_by_username(make_user_client):
    NotificationFactory(username="bob")

    response = make_user_client("alice").get(URL, {"username": "bob"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_listing_needs_a_user(make_service_client, anonymous_client):
    assert make_service_client("mini_order").get(URL).status_code == 401
    assert anonymous_client.get(URL, HTTP_X_USERNAME="alice").status_code == 401
