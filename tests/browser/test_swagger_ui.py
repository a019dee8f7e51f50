"""mini_order's Swagger UI (<gateway>/docs/order/): authorise, then call the API from the page."""

import json

from playwright.sync_api import Locator, Page, expect

from tests.support import login, register_user


def authorise_with_bearer_token(page: Page, token: str) -> None:
    """Authorize, the Bearer scheme's value, Authorize, Close: a token for every call."""
    page.get_by_role("button", name="Authorize").click()
    dialog = page.locator(".modal-ux")  # Swagger UI's dialog has no dialog role
    # Through the gateway a caller proves who it is with `Authorization: Bearer <token>`.
    bearer = dialog.locator("form").filter(has_text="(http, Bearer)")
    expect(bearer, "the Authorize dialog offers no Bearer token").to_have_count(1)
    bearer.get_by_role("textbox").fill(token)
    bearer.get_by_role("button", name="Apply credentials").click()
    bearer.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)


def open_operation(page: Page, method: str, path: str) -> Locator:
    """Expand an operation and press Try it out; its block, to fill in and execute."""
    summary = page.get_by_role("button", name=f"{method} {path}", exact=True)
    summary.click()
    operation = page.locator(".opblock").filter(has=summary)
    operation.get_by_role("button", name="Try it out").click()
    return operation


def execute(operation: Locator) -> tuple[str, dict]:
    """Press Execute; the status code and JSON body the page shows."""
    operation.get_by_role("button", name="Execute").click()
    shown = operation.locator(".live-responses-table tr.response")
    expect(shown).to_have_count(1)
    status = shown.locator(".response-col_status").inner_text().strip()
    body = shown.locator(".response-col_description pre").first.inner_text()
    return status, json.loads(body)


def test_swagger_ui_authorises_with_a_token_and_orders_from_the_page(
    page, gateway_url, gateway_api
):
    user = register_user(gateway_api, balance=1000, prefix="swagger")
    page.goto(f"{gateway_url}/docs/order/")
    authorise_with_bearer_token(page, login(gateway_api, user.username)["accessToken"])

    create = open_operation(page, "POST", "/api/v1/order")
    body = {
        "shopId": 1,
        "orderPositions": [
            {"productId": 111, "price": 3, "quantity": 5},
            {"productId": 112, "price": 4, "quantity": 1},
        ],
    }
    create.locator("textarea.body-param__text").fill(json.dumps(body, indent=2))
    status, order = execute(create)
    assert (status, order["status"]) == ("201", "PAID"), order
    assert order["username"] == user.username

    listing = open_operation(page, "GET", "/api/v1/order")
    status, page_of_orders = execute(listing)
    assert status == "200", page_of_orders
    assert [o["id"] for o in page_of_orders["results"]] == [order["id"]]
