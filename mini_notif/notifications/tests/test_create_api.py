import logging

import pytest
from django.core import mail

from notifications.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/notification"
BODY = {
    "notificationType": "success",
    "parentType": "Order",
    "parentId": 17,
    "username": "alice",
    "text": "Your order 17 is paid.",
    "contact": {"email": "alice@example.com", "phone": "+1 555 0100"},
}


@pytest.fixture
def order_service(make_service_client):
    return make_service_client("mini_order", "alice")


def test_create_stores_and_sends_email(order_service):
    response = order_service.post(URL, BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "notificationType",
        "parentType",
        "parentId",
        "username",
        "text",
        "contact",
        "deliveryStatus",
        "createdAt",
    }
    assert body["notificationType"] == "SUCCESS"
    assert body["parentType"] == "ORDER"
    assert body["parentId"] == 17
    assert body["contact"] == {"email": "alice@example.com", "phone": "+1 555 0100"}
    assert body["deliveryStatus"] == "SENT"

    stored = Notification.objects.get(pk=body["id"])
    assert stored.delivery_status == Notification.DeliveryStatus.SENT
    assert stored.attempts == 1
    assert stored.sent_at is not None
    assert stored.locked_until is None

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "[mini] Success: Order 17"
    assert message.body == "Your order 17 is paid."


def test_phone_only_is_delivered_to_the_log(order_service, caplog):
    body = {**BODY, "contact": {"phone": "+1 555 0100"}}
    with caplog.at_level(logging.INFO, logger="notifications.delivery"):
        response = order_service.post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["deliveryStatus"] == "SENT"
    assert response.json()["contact"] == {"email": None, "phone": "+1 555 0100"}
    assert mail.outbox == []
    assert "log channel (phone ******00)" in caplog.text


def test_delivery_failure_keeps_the_notification_as_failed(order_service, broken_mail):
    response = order_service.post(URL, BODY, format="json")

    assert response.status_code == 201
    assert response.json()["deliveryStatus"] == "FAILED"
    stored = Notification.objects.get()
    assert stored.delivery_status == Notification.DeliveryStatus.FAILED
    assert stored.attempts == 1
    assert stored.sent_at is None
    assert stored.locked_until is None
    assert "ConnectionRefusedError: smtp.example.com:25 refused" in stored.last_error


@pytest.mark.parametrize("parent_type", ["ORDER", "PAYMENT"])
@pytest.mark.parametrize("given", [17, "17", "0017", 17.0])
def test_an_order_or_payment_parent_id_is_an_integer(order_service, parent_type, given):
    body = {**BODY, "parentType": parent_type, "parentId": given}
    response = order_service.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["parentId"] == 17
    assert Notification.objects.get().parent_id == "17"


@pytest.mark.parametrize("parent_type", ["ORDER", "PAYMENT"])
@pytest.mark.parametrize("given", ["alice", "17a", 0, "0", "-3", 2**63])
def test_an_order_or_payment_parent_id_must_be_a_positive_integer(
    order_service, parent_type, given
):
    response = order_service.post(
        URL, {**BODY, "parentType": parent_type, "parentId": given}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"parentId"}
    assert Notification.objects.count() == 0


def test_a_user_parent_id_is_a_username(order_service):
    numbers = order_service.post(URL, {**BODY, "parentType": "USER", "parentId": 17}, format="json")
    assert numbers.status_code == 400
    assert set(numbers.json()["errors"]) == {"parentId"}


def test_parent_id_may_be_a_string_or_absent(order_service):
    by_name = order_service.post(
        URL, {**BODY, "parentType": "USER", "parentId": "alice"}, format="json"
    )
    without = order_service.post(
        URL, {k: v for k, v in BODY.items() if k != "parentId"}, format="json"
    )
    explicit_null = order_service.post(URL, {**BODY, "parentId": None}, format="json")

    assert by_name.json()["parentId"] == "alice"
    assert without.status_code == 201, without.json()
    assert without.json()["parentId"] is None
    assert explicit_null.json()["parentId"] is None


def test_unknown_fields_are_a_400_that_names_them(order_service, broken_mail):
    body = {**BODY, "id": 999, "deliveryStatus": "SENT"}
    response = order_service.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "id": ["Unknown field."],
        "deliveryStatus": ["Unknown field."],
    }
    nested = order_service.post(
        URL, {**BODY, "contact": {"email": "a@b.c", "fax": 1}}, format="json"
    )
    assert nested.json()["errors"] == {"contact": {"fax": ["Unknown field."]}}
    assert not Notification.objects.exists()


def test_idempotent_replay_creates_and_sends_once(order_service):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-17-notification"}
    first = order_service.post(URL, BODY, format="json", **headers)
    again = order_service.post(URL, BODY, format="json", **headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_same_key_while_the_first_request_still_sends_is_409(order_service, monkeypatch):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-19-notification"}
    answers = []

    def send_while_a_retry_arrives(notification):
        answers.append(order_service.post(URL, BODY, format="json", **headers))
        return "email"

    monkeypatch.setattr("notifications.services.notification_send", send_while_a_retry_arrives)
    first = order_service.post(URL, BODY, format="json", **headers)

    assert first.status_code == 201
    assert [a.status_code for a in answers] == [409]
    assert answers[0].json()["code"] == "request_in_progress"
    assert Notification.objects.count() == 1


def test_bad_key_is_400_before_anything_is_stored(order_service):
    response = order_service.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="has space")
    assert response.status_code == 400
    assert not Notification.objects.exists()


def test_reused_key_with_another_payload_is_422(order_service):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-17-notification"}
    order_service.post(URL, BODY, format="json", **headers)
    response = order_service.post(URL, {**BODY, "text": "Other"}, format="json", **headers)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert Notification.objects.count() == 1


def test_corrected_retry_with_the_same_key_works(order_service):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-18-notification"}
    bad = order_service.post(URL, {**BODY, "parentType": "invoice"}, format="json", **headers)
    good = order_service.post(URL, BODY, format="json", **headers)

    assert (bad.status_code, good.status_code) == (400, 201)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"notificationType": "URGENT"}, "notificationType"),
        ({"notificationType": 1}, "notificationType"),
        ({"notificationType": None}, "notificationType"),
        ({"parentType": "INVOICE"}, "parentType"),
        ({"parentType": True}, "parentType"),
        ({"parentId": True}, "parentId"),
        ({"parentId": 1.5}, "parentId"),
        ({"parentId": -1}, "parentId"),
        ({"parentId": "x" * 65}, "parentId"),
        ({"parentId": "a b"}, "parentId"),
        ({"parentId": ""}, "parentId"),
        ({"parentId": {"id": 1}}, "parentId"),
        ({"username": "al"}, "username"),
        ({"username": "alice smith"}, "username"),
        ({"username": 12345}, "username"),
        ({"username": None}, "username"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": 42}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": "nul \x00 byte"}, "text"),
        ({"contact": None}, "contact"),
        ({"contact": {}}, "contact"),
        ({"contact": {"email": None, "phone": ""}}, "contact"),
        ({"contact": "alice@example.com"}, "contact"),
        ({"contact": {"email": "not-an-email"}}, "contact"),
        ({"contact": {"email": 7}}, "contact"),
        ({"contact": {"email": "a@example.com\nBcc: x@example.com"}}, "contact"),
        ({"contact": {"phone": "call me"}}, "contact"),
    ],
)
def test_validation_errors(order_service, changes, field):
    response = order_service.post(URL, {**BODY, **changes}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "missing", ["notificationType", "parentType", "username", "text", "contact"]
)
def test_required_fields(order_service, missing):
    body = {k: v for k, v in BODY.items() if k != missing}
    response = order_service.post(URL, body, format="json")

    assert response.status_code == 400
    assert missing in response.json()["errors"]


@pytest.mark.parametrize("value, stored", [("Warning", "WARNING"), (" info ", "INFO")])
def test_enums_are_case_insensitive(order_service, value, stored):
    response = order_service.post(URL, {**BODY, "notificationType": value}, format="json")

    assert response.status_code == 201
    assert Notification.objects.get().notification_type == stored


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{nope", "malformed_request"),
        ('{"text": NaN}', "malformed_request"),  # NaN is not JSON
        # An empty body never reaches the parser (DRF reads it as no data): the
        # required fields are missing.
        ("", "validation_error"),
        ("[]", "validation_error"),  # JSON, but not the object the endpoint takes
        ('"text"', "validation_error"),
    ],
)
def test_malformed_or_non_object_bodies_are_400(order_service, raw, code):
    response = order_service.post(URL, data=raw, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_create_is_internal_only(make_user_client, anonymous_client):
    as_user = make_user_client("alice").post(URL, BODY, format="json")
    as_admin = make_user_client("root", roles="user,admin").post(URL, BODY, format="json")
    without_token = anonymous_client.post(URL, BODY, format="json", HTTP_X_SERVICE="mini_order")

    assert as_user.status_code == 403
    assert as_user.json()["code"] == "permission_denied"
    assert as_admin.status_code == 403
    assert without_token.status_code == 401
    assert not Notification.objects.exists()
