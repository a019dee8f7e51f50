import pytest
from django.core import mail

from notifications.models import Notification
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notif/notifications/notification/"


def test_changelist_search_filters_and_change_page(admin_client):
    notification = NotificationFactory(username="alice", parent_id="17")
    NotificationFactory(username="bob")

    listing = admin_client.get(CHANGELIST)
    searched = admin_client.get(CHANGELIST, {"q": "alice"})
    filtered = admin_client.get(CHANGELIST, {"delivery_status__exact": "FAILED"})
    change = admin_client.get(f"{CHANGELIST}{notification.pk}/change/")

    assert listing.status_code == 200
    assert searched.context["cl"].result_count == 1
    assert filtered.context["cl"].result_count == 0
    assert change.status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_resend_action_retries_unsent_and_skips_sent(admin_client):
    failed = NotificationFactory(
        delivery_status=Notification.DeliveryStatus.FAILED, attempts=10, sent_at=None
    )
    sent = NotificationFactory()

    response = admin_client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Sent 1, failed 0, skipped 1" in response.content.decode()
    failed.refresh_from_db()
    assert failed.delivery_status == Notification.DeliveryStatus.SENT
    assert failed.attempts == 11  # the attempt limit is for reconcile, not for a human
    assert len(mail.outbox) == 1


def test_a_notification_cannot_be_changed_or_deleted(admin_client):
    notification = NotificationFactory(username="alice", text="Your order 17 is paid.")
    page = admin_client.get(f"{CHANGELIST}{notification.pk}/change/")
    assert page.context["adminform"].form.fields == {}
    assert 'name="_save"' not in page.content.decode()
    edit = {"text": "rewritten", "contact_email": "mallory@example.com"}
    assert admin_client.post(f"{CHANGELIST}{notification.pk}/change/", edit).status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{notification.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    notification.refresh_from_db()
    assert notification.text == "Your order 17 is paid."


def test_an_order_notification_links_to_its_order_and_the_users_records(admin_client):
    notification = NotificationFactory(username="alice", parent_type="ORDER", parent_id="17")
    page = admin_client.get(f"{CHANGELIST}{notification.pk}/change/").content.decode()
    assert 'href="/admin/order/orders/order/17/change/"' in page
    assert 'href="/admin/order/orders/order/?username=alice"' in page
    assert 'href="/admin/billing/billing/account/?username=alice"' in page


def test_the_changelist_filters_by_parent_as_the_order_admin_links_it(admin_client):
    order_17 = NotificationFactory(parent_type="ORDER", parent_id="17")
    NotificationFactory(parent_type="ORDER", parent_id="170")
    NotificationFactory(parent_type="PAYMENT", parent_id="17")
    listing = admin_client.get(CHANGELIST, {"parent_type__exact": "ORDER", "parent_id": "17"})
    assert [n.pk for n in listing.context["cl"].result_list] == [order_17.pk]
