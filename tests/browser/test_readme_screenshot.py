"""The README's picture of the order admin: taken on every run, kept in docs/ when asked.

Every run writes it to var/browser-artifacts/; with MINI_UPDATE_SCREENSHOTS=1 it
also replaces docs/img/order-admin.png:

    MINI_UPDATE_SCREENSHOTS=1 python3 manage_all.py test -k readme_screenshot
"""

import os

from playwright.sync_api import expect

from tests.browser.admin import link_to
from tests.browser.conftest import ARTIFACTS_DIR
from tools.manage_all.layout import REPO_ROOT

ORDER_ADMIN_PNG = REPO_ROOT / "docs" / "img" / "order-admin.png"


def test_order_admin_screenshot_for_the_readme(admins, paid_order):
    page = admins.page
    admins.log_in("order")
    admins.open("order", f"orders/order/{paid_order.id}/change/")
    # The picture must show what the README describes: the positions and the links onwards.
    expect(page.get_by_role("group", name="Order positions")).to_be_visible()
    payment = f"/admin/billing/billing/operation/?order_id={paid_order.id}"
    expect(link_to(page, payment)).to_be_visible()
    # The model list beside every page says nothing about the order: fold it away.
    page.get_by_role("button", name="Toggle navigation").click()

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    taken = page.screenshot(path=ARTIFACTS_DIR / ORDER_ADMIN_PNG.name, full_page=True)
    assert taken.startswith(b"\x89PNG")
    if os.environ.get("MINI_UPDATE_SCREENSHOTS"):
        ORDER_ADMIN_PNG.write_bytes(taken)
