"""The five Django admins through the gateway, as one person in one browser uses them."""

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, Response, expect

from mini_common.services import SERVICES

# The admins' short names: each lives at <gateway>/admin/<short>/ (mini_<short>).
ADMINS = SERVICES


@dataclass(frozen=True)
class Superuser:
    username: str
    password: str


def site_header(short: str) -> str:
    """What each admin's header reads, so that one always knows which admin one is in."""
    return f"mini_{short} administration"


class Admins:
    def __init__(self, page: Page, gateway_url: str, superuser: Superuser) -> None:
        self.page = page
        self.gateway_url = gateway_url
        self.superuser = superuser

    def url(self, short: str, path: str = "") -> str:
        return f"{self.gateway_url}/admin/{short}/{path}"

    def open(self, short: str, path: str = "") -> None:
        self.page.goto(self.url(short, path))

    def submit_login(self, username: str, password: str) -> Response:
        """Fill in and send the login form on the current page; the answer to its POST."""
        page = self.page
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return posted.value

    def log_in(self, short: str) -> None:
        """Open an admin, get its login form, log in as the superuser, land on its index."""
        self.open(short)
        expect(self.page.locator("#id_password")).to_be_visible()
        answer = self.submit_login(self.superuser.username, self.superuser.password)
        # A good login redirects to the index; a 403 here is the CSRF check refusing the form.
        assert answer.status == 302, (
            f"logging in to /admin/{short}/ answered {answer.status}: "
            + self.page.locator("body").inner_text()[:400]
        )
        expect(self.page).to_have_url(self.url(short))
        expect_logged_in(self.page)

    def search(self, term: str) -> None:
        """Type into a changelist's search box and search, as a person does."""
        self.page.locator("#searchbar").fill(term)
        self.page.get_by_role("button", name="Search").click()


def expect_logged_in(page: Page) -> None:
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("#id_password")).to_have_count(0)


def result_rows(page: Page) -> Locator:
    """The rows of a changelist's results table (not its header)."""
    return page.locator("#result_list tbody").get_by_role("row")


def link_to(page: Page, href: str) -> Locator:
    """The link to href in the page's main part (not the header or the sidebar).

    Found by its address: the address is what one admin promises another; the
    words around it are the admin's own.
    """
    return page.get_by_role("main").locator(f'a[href="{href}"]')


def save_buttons(page: Page) -> Locator:
    """Save, Save and continue editing, Save and add another: any way to change the object."""
    return page.get_by_role("button", name=re.compile(r"^Save"))
