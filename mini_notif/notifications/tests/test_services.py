from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mini_common.errors import IdempotencyKeyReused, RequestInProgress
from mini_common.idempotency import Claim
from notifications.models import Notification
from notifications.services import notification_create, notification_retry
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.DeliveryStatus
FIELDS = {
    "notification_type": "SUCCESS",
    "parent_type": "ORDER",
    "parent_id": "17",
    "username": "alice",
    "text": "Your order 17 is paid.",
    "contact_email": "alice@example.com",
}


def test_create_commits_pending_before_sending(monkeypatch):
    seen = []

    def spy(notification):
        # What a crash at this moment would leave behind: the committed recovery point.
        seen.append(Notification.objects.values("delivery_status", "attempts").get())
        return "email"

    monkeypatch.setattr("notifications.services.notification_send", spy)
    claimed = notification_create(**FIELDS)
    notification = claimed.row

    assert claimed.claim == Claim.CREATED

    assert seen == [{"delivery_status": Status.PENDING, "attempts": 1}]
    assert notification.delivery_status == Status.SENT


def test_rerun_with_the_same_request_key_returns_the_first_notification():
    first = notification_create(**FIELDS, request_key="mini_order/order-17").row
    again = notification_create(**FIELDS, request_key="mini_order/order-17")

    assert (again.row.pk, again.claim) == (first.pk, Claim.FINAL)
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_rerun_after_a_crash_mid_send_finishes_the_delivery():
    # The first request died after its insert: PENDING, lease expired, nothing sent.
    stuck = NotificationFactory(
        **FIELDS,
        request_key="mini_order/order-17",
        delivery_status=Status.PENDING,
        sent_at=None,
        locked_until=timezone.now() - timedelta(seconds=1),
    )

    claimed = notification_create(**FIELDS, request_key="mini_order/order-17")
    again = claimed.row

    assert (again.pk, claimed.claim) == (stuck.pk, Claim.RESUMED)
    assert again.delivery_status == Status.SENT
    assert again.attempts == 2
    assert len(mail.outbox) == 1


def test_rerun_while_the_first_is_still_sending_is_in_progress():
    NotificationFactory(
        **FIELDS,
        request_key="mini_order/order-17",
        delivery_status=Status.PENDING,
        sent_at=None,
        locked_until=timezone.now() + timedelta(seconds=30),
    )

    with pytest.raises(RequestInProgress):
        notification_create(**FIELDS, request_key="mini_order/order-17")

    assert mail.outbox == []


def test_rerun_of_a_failed_delivery_answers_it_without_sending_again(broken_mail):
    first = notification_create(**FIELDS, request_key="mini_order/order-17").row
    assert first.delivery_status == Status.FAILED

    claimed = notification_create(**FIELDS, request_key="mini_order/order-17")
    again = claimed.row

    assert (again.pk, claimed.claim, again.delivery_status) == (
        first.pk,
        Claim.FINAL,
        Status.FAILED,
    )
    assert again.attempts == 1  # reconcile retries it, not a replay


def test_request_key_with_another_payload_is_refused():
    notification_create(**FIELDS, request_key="mini_order/order-17")

    with pytest.raises(IdempotencyKeyReused):
        notification_create(**{**FIELDS, "text": "Other"}, request_key="mini_order/order-17")


def test_retry_leaves_sent_and_leased_notifications_alone():
    sent = NotificationFactory()
    leased = NotificationFactory(
        delivery_status=Status.FAILED, locked_until=timezone.now() + timedelta(seconds=30)
    )

    assert notification_retry(notification_id=sent.pk) is None
    assert notification_retry(notification_id=leased.pk) is None
    assert mail.outbox == []


def test_retry_respects_max_attempts():
    failed = NotificationFactory(delivery_status=Status.FAILED, attempts=3, sent_at=None)

    assert notification_retry(notification_id=failed.pk, max_attempts=3) is None
    retried = notification_retry(notification_id=failed.pk, max_attempts=4)
    assert retried.delivery_status == Status.SENT
    assert retried.attempts == 4
