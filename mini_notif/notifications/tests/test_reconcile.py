import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from mini_common.errors import RequestInProgress
from mini_common.idempotency import Claim
from mini_common.testing import run_in_threads
from notifications.models import Notification
from notifications.services import notification_create, notification_reconcile
from notifications.tests.factories import NotificationFactory

Status = Notification.DeliveryStatus


def unsent(**fields) -> Notification:
    return NotificationFactory(**{"sent_at": None, **fields})


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_reconcile_resends_failed_and_abandoned_pending():
    old = timezone.now() - timedelta(minutes=5)
    failed = unsent(delivery_status=Status.FAILED, last_error="SMTPException: boom")
    abandoned = unsent(
        delivery_status=Status.PENDING, created_at=old, locked_until=old + timedelta(seconds=60)
    )

    output = reconcile()

    assert "sent 2, failed 0, skipped 0" in output
    assert {m.to[0] for m in mail.outbox} == {failed.contact_email, abandoned.contact_email}
    for notification in (failed, abandoned):
        notification.refresh_from_db()
        assert notification.delivery_status == Status.SENT
        assert notification.attempts == 2
        assert notification.sent_at is not None
        assert notification.last_error == ""
        assert notification.locked_until is None


@pytest.mark.django_db
def test_reconcile_leaves_alone_what_is_not_its_business():
    unsent(delivery_status=Status.PENDING)  # young: its request is still sending it
    unsent(  # old, but its lease is live: someone is sending it right now
        delivery_status=Status.FAILED, locked_until=timezone.now() + timedelta(seconds=30)
    )
    unsent(delivery_status=Status.FAILED, attempts=10)  # exhausted
    NotificationFactory()  # sent

    output = reconcile()

    assert "sent 0, failed 0, skipped 0 (claimed elsewhere), exhausted 1" in output
    assert mail.outbox == []


@pytest.mark.django_db
def test_reconcile_failure_stays_failed_with_one_more_attempt(broken_mail):
    failed = unsent(delivery_status=Status.FAILED, attempts=2)

    output = reconcile()

    assert "sent 0, failed 1" in output
    failed.refresh_from_db()
    assert failed.delivery_status == Status.FAILED
    assert failed.attempts == 3
    assert "refused the connection" in failed.last_error


@pytest.mark.django_db
def test_reconcile_options_and_idempotence():
    unsent(delivery_status=Status.FAILED, attempts=3)
    unsent(delivery_status=Status.PENDING)

    def run() -> str:
        out = StringIO()
        call_command("reconcile", "--max-attempts", "3", "--grace", "0", stdout=out)
        return out.getvalue()

    assert "sent 1, failed 0, skipped 0 (claimed elsewhere), exhausted 1" in run()
    assert "sent 0, failed 0, skipped 0 (claimed elsewhere), exhausted 1" in run()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_reconcile_refuses_nonsense_options():
    with pytest.raises(CommandError):
        call_command("reconcile", "--max-attempts", "0")


@pytest.mark.django_db
def test_failed_delivery_through_the_api_is_finished_by_reconcile(make_service_client, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    body = {
        "notificationType": "FAIL",
        "parentType": "ORDER",
        "parentId": 5,
        "username": "alice",
        "text": "Insufficient funds for order 5.",
        "contact": {"email": "alice@example.com"},
    }
    working_send = EmailBackend.send_messages
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, messages: 0)
    response = make_service_client("mini_order").post("/api/v1/notification", body, format="json")
    assert response.json()["deliveryStatus"] == "FAILED"

    monkeypatch.setattr(EmailBackend, "send_messages", working_send)
    assert "sent 1" in reconcile()
    assert Notification.objects.get().delivery_status == Status.SENT
    assert len(mail.outbox) == 1


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level concurrency needs PostgreSQL; SQLite serialises every writer",
)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reconcile_runs_send_each_notification_once(monkeypatch):
    failed = [unsent(delivery_status=Status.FAILED) for _ in range(30)]
    sends: list[int] = []
    lock = threading.Lock()

    def counting_send(notification):
        with lock:
            sends.append(notification.pk)
        return "email"

    monkeypatch.setattr("notifications.services.notification_send", counting_send)
    summaries = run_in_threads(
        lambda _: notification_reconcile(max_attempts=10, pending_grace=0), 4
    )

    assert sorted(sends) == sorted(n.pk for n in failed)
    assert sum(s.sent for s in summaries) == 30
    assert set(Notification.objects.values_list("delivery_status", flat=True)) == {Status.SENT}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {2}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_request_key_store_one_notification():
    fields = {
        "notification_type": "SUCCESS",
        "parent_type": "ORDER",
        "parent_id": "17",
        "username": "alice",
        "text": "Your order 17 is paid.",
        "contact_phone": "+1 555 0100",
        "request_key": "mini_order/order-17",
    }

    results = run_in_threads(lambda _: notification_create(**fields), 4)

    # Each gets the one notification, or a 409 while its first request still sends it.
    stored = Notification.objects.get()
    answered = [r for r in results if not isinstance(r, RequestInProgress)]
    assert all(r.row.pk == stored.pk for r in answered), results
    assert sum(r.claim == Claim.CREATED for r in answered) == 1
    assert stored.attempts == 1
