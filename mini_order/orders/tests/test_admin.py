import pytest

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


def test_change_page_shows_positions_read_only(admin_client):
    order = OrderFactory(username="alice")
    response = admin_client.get(f"{ADMIN}{order.pk}/change/")
    assert response.status_code == 200
    form_fields = response.context["adminform"].form.fields
    assert set(form_fields) == {"shop_id"}  # money, status and the rest are read-only
    assert admin_client.get(f"{ADMIN}add/").status_code == 403
