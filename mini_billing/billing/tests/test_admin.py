from decimal import Decimal

import pytest

from billing.models import Operation
from billing.services import operation_perform
from billing.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/billing/billing"


@pytest.fixture
def account():
    account = AccountFactory(username="alice", deposit="100")
    operation_perform(
        username=account.username, operation_type="PAYMENT", amount=Decimal(5), order_id=77
    )
    return account


def test_account_pages_show_balance_and_operations(admin_client, account):
    listing = admin_client.get(f"{ADMIN}/account/", {"q": "alice"})
    assert listing.status_code == 200
    assert b"alice" in listing.content
    detail = admin_client.get(f"{ADMIN}/account/{account.pk}/change/")
    assert detail.status_code == 200
    assert b"Operations (latest 50)" in detail.content
    assert b"PAYMENT" in detail.content


def test_operations_are_searchable_and_filterable(admin_client, account):
    by_order = admin_client.get(f"{ADMIN}/operation/", {"q": "77"})
    assert by_order.status_code == 200
    assert len(by_order.context["cl"].result_list) == 1
    by_type = admin_client.get(f"{ADMIN}/operation/", {"type__exact": "DEPOSIT"})
    assert len(by_type.context["cl"].result_list) == 1
    assert admin_client.get(f"{ADMIN}/operation/", {"q": "not-a-number"}).status_code == 200


def test_nothing_can_be_added_changed_or_deleted(admin_client, account):
    operation = Operation.objects.filter(account=account).first()
    assert admin_client.get(f"{ADMIN}/operation/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/account/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/operation/{operation.pk}/delete/").status_code == 403
    assert admin_client.get(f"{ADMIN}/account/{account.pk}/delete/").status_code == 403
    response = admin_client.post(
        f"{ADMIN}/account/{account.pk}/change/", {"username": "mallory", "balance": "1000000"}
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert (account.username, account.balance) == ("alice", Decimal("95.00"))


def test_the_order_admins_links_find_the_payment_and_the_account(admin_client, account):
    # What mini_order's admin links to: the operations of one order, a user's account.
    payments = admin_client.get(f"{ADMIN}/operation/", {"order_id": "77"}).context["cl"]
    assert [(op.type, op.order_id) for op in payments.result_list] == [("PAYMENT", 77)]
    accounts = admin_client.get(f"{ADMIN}/account/", {"username": "alice"}).context["cl"]
    assert [a.pk for a in accounts.result_list] == [account.pk]


def test_account_and_payment_pages_link_to_the_other_admins(admin_client, account):
    detail = admin_client.get(f"{ADMIN}/account/{account.pk}/change/").content.decode()
    assert 'href="/admin/order/orders/order/?username=alice"' in detail
    assert 'href="/admin/notif/notifications/notification/?username=alice"' in detail
    assert 'href="/admin/user/profiles/profile/?username=alice"' in detail
    payment = Operation.objects.get(account=account, type="PAYMENT")
    page = admin_client.get(f"{ADMIN}/operation/{payment.pk}/change/").content.decode()
    assert 'href="/admin/order/orders/order/77/change/"' in page
    assert "mini_billing administration" in page
