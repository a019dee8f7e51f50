"""The order admin: inspection of money records, links to the other admins, reconcile."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/order/orders/order/"


def test_changelist_filters_and_searches(admin_client):
    paid = OrderFactory(username="alice", status="PAID", notified_status="PAID")
    OrderFactory(username="bob", status="NEW")
    assert admin_client.get(ADMIN).status_code == 200
    assert admin_client.get(ADMIN, {"status__exact": "PAID"}).context["cl"].result_count == 1
    assert admin_client.get(ADMIN, {"q": "alice"}).context["cl"].result_count == 1
    by_id = admin_client.get(ADMIN, {"q": str(paid.pk)}).context["cl"]
    assert [order.pk for order in by_id.result_list] == [paid.pk]


def test_a_paid_order_is_shown_with_its_positions_and_cannot_be_changed(admin_client):
    order = OrderFactory(username="alice", status="PAID", notified_status="PAID", shop_id=3)
    response = admin_client.get(f"{ADMIN}{order.pk}/change/")
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}  # every field read-only
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    page = response.content.decode()
    assert 'name="_save"' not in page
    assert f"{ADMIN}{order.pk}/delete/" not in page
    assert "product" in page and "150.00" in page  # the position 2 x product 1 at 150


def test_an_order_cannot_be_changed_deleted_or_added_by_a_raw_post(admin_client):
    order = OrderFactory(username="alice", status="PAID", notified_status="PAID")
    assert admin_client.post(f"{ADMIN}{order.pk}/change/", {"status": "NEW"}).status_code == 403
    assert admin_client.post(f"{ADMIN}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"}
    admin_client.post(ADMIN, bulk)
    assert admin_client.get(f"{ADMIN}add/").status_code == 403
    order.refresh_from_db()
    assert order.status == "PAID"


def test_the_order_page_links_to_its_payment_notifications_and_account(admin_client):
    order = OrderFactory(username="alice", status="PAID", notified_status="PAID")
    page = admin_client.get(f"{ADMIN}{order.pk}/change/").content.decode()
    assert f'href="/admin/billing/billing/operation/?order_id={order.pk}"' in page
    notifications = "/admin/notif/notifications/notification/"
    notifications += f"?parent_type__exact=ORDER&amp;parent_id={order.pk}"
    assert f'href="{notifications}"' in page
    assert 'href="/admin/billing/billing/account/?username=alice"' in page


def test_the_admin_names_its_service_and_links_to_the_others(admin_client, client):
    page = admin_client.get("/admin/order/").content.decode()
    assert "mini_order administration" in page
    for other in ("auth", "user", "billing", "notif"):
        assert f'href="/admin/{other}/"' in page
    assert "mini_order administration" in client.get("/admin/order/login/").content.decode()


def test_reconcile_action_settles_only_the_selected_orders(admin_client, fake_remote, settings):
    settings.ORDER_RETRY_WINDOW = 900
    settings.ORDER_RECONCILE_MIN_AGE = 10
    an_hour_ago = timezone.now() - timedelta(hours=1)
    chosen = OrderFactory(username="alice", created_at=an_hour_ago)
    other = OrderFactory(username="bob", created_at=an_hour_ago)
    fake_remote.found_payment = None  # billing has no payment: past the window, cancelled

    response = admin_client.post(
        ADMIN, {"action": "reconcile", "_selected_action": [chosen.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "cancelled 1" in response.content.decode()
    assert Order.objects.get(pk=chosen.pk).status == "CANCELLED"
    assert Order.objects.get(pk=other.pk).status == "NEW"
