"""Following one paid order across the order, billing and notification admins by links.

The order is made through the API first (tests/browser/conftest.py ``paid_order``);
the admin only shows it: orders, positions, payments and notifications are records
of money, for inspection.
"""

import re

from playwright.sync_api import Page, expect

from tests.browser.admin import link_to, result_rows, save_buttons


def order_page(order_id: int) -> str:
    return f"orders/order/{order_id}/change/"


def expect_positions(page: Page, positions: list[dict]) -> None:
    """The order's inline shows every position's product id, price and quantity."""
    table = page.get_by_role("group", name="Order positions")
    for position in positions:
        row = table.get_by_role("row").filter(
            has=page.get_by_role("cell", name=str(position["productId"]), exact=True)
        )
        expect(row).to_have_count(1)
        for value in (f"{position['price']:.2f}", str(position["quantity"])):
            expect(row.get_by_role("cell", name=value, exact=True)).to_be_visible()


def test_find_a_paid_order_by_username_and_see_it_is_read_only(admins, paid_order):
    page = admins.page
    admins.log_in("order")
    admins.open("order", "orders/order/")
    # Deleting from the list is no way around the read-only order either.
    expect(page.get_by_role("option", name=re.compile("^Delete selected"))).to_have_count(0)

    admins.search(paid_order.username)
    rows = result_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Paid")
    expect(rows.first).to_contain_text(paid_order.total)
    rows.first.get_by_role("link", name=str(paid_order.id), exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(order_page(paid_order.id))))
    expect(page.get_by_role("main")).to_contain_text(paid_order.username)
    expect_positions(page, paid_order.positions)
    expect(save_buttons(page)).to_have_count(0)
    expect(page.get_by_role("link", name="Delete", exact=True)).to_have_count(0)


def test_follow_a_paid_order_to_its_payment_and_its_notification(admins, paid_order):
    page = admins.page
    for short in ("order", "billing", "notif"):
        admins.log_in(short)
    admins.open("order", order_page(paid_order.id))

    payment = link_to(page, f"/admin/billing/billing/operation/?order_id={paid_order.id}")
    expect(payment).to_contain_text(re.compile("payment", re.IGNORECASE))
    payment.click()
    # The billing admin, showing the one payment of this order.
    rows = result_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Payment")
    expect(rows.first).to_contain_text(paid_order.username)
    expect(rows.first).to_contain_text(paid_order.total)

    page.go_back()
    notifications = link_to(
        page,
        "/admin/notif/notifications/notification/"
        f"?parent_type__exact=ORDER&parent_id={paid_order.id}",
    )
    expect(notifications).to_contain_text(re.compile("notification", re.IGNORECASE))
    notifications.click()
    # The notification admin, showing the order's SUCCESS notification.
    rows = result_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Success")
    expect(rows.first).to_contain_text(f"ORDER {paid_order.id}")
    expect(rows.first).to_contain_text(paid_order.username)


def test_an_account_links_to_the_users_orders_and_notifications(admins, paid_order):
    page, username = admins.page, paid_order.username
    for short in ("billing", "order", "notif"):
        admins.log_in(short)
    admins.open("billing", "billing/account/")
    admins.search(username)
    result_rows(page).first.get_by_role("link", name=username, exact=True).click()

    orders = link_to(page, f"/admin/order/orders/order/?username={username}")
    notifications = link_to(page, f"/admin/notif/notifications/notification/?username={username}")
    expect(notifications).to_be_visible()
    orders.click()
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text(str(paid_order.id))

    page.go_back()
    notifications.click()
    expect(result_rows(page).filter(has_text=f"ORDER {paid_order.id}")).to_have_count(1)
    expect(result_rows(page).filter(has_not_text=username)).to_have_count(0)


def test_a_user_in_mini_auth_links_to_the_profile_and_the_account(admins, paid_order):
    page, username = admins.page, paid_order.username
    for short in ("auth", "user", "billing"):
        admins.log_in(short)
    admins.open("auth", "auth/user/")
    admins.search(username)
    result_rows(page).first.get_by_role("link", name=username, exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/auth/auth/user/\d+/change/"))

    profile = link_to(page, f"/admin/user/profiles/profile/?username={username}")
    account = link_to(page, f"/admin/billing/billing/account/?username={username}")
    expect(account).to_be_visible()
    profile.click()
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text(username)

    page.go_back()
    account.click()
    expect(result_rows(page)).to_have_count(1)
    expect(result_rows(page).first).to_contain_text(username)
