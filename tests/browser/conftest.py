"""A real browser against the live system: Playwright driving Debian's chromium, headless.

The system is the cross-service suite's session fixture ``system`` (tests/conftest.py);
this suite adds a superuser to every service's database and one fresh browser context
(its own cookies) per test. When a test fails, a screenshot and the HTML of every page
it had open are kept in var/browser-artifacts/, for CI to keep as artefacts.
"""

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.admin import Admins, Superuser
from tests.support import Api, User, register_user
from tools.manage_all.browser import CHROMIUM
from tools.manage_all.layout import REPO_ROOT, SERVICES

ARTIFACTS_DIR = REPO_ROOT / "var" / "browser-artifacts"

# Nothing but the pages under test: no updates, sync or other calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Every page of the system answers in well under a second; waiting longer hides nothing.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: sudo apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser) -> BrowserContext:
    """A browser with no cookies yet: what a person opening the admin for the first time has."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def gateway_url(system) -> str:
    return system.gateway_url


@pytest.fixture(scope="session")
def gateway_api(gateway_url) -> Api:
    return Api(gateway_url)


@pytest.fixture(scope="session")
def superuser(system) -> Superuser:
    """One superuser, the same in every service's database (as `manage_all.py createsuperuser`)."""
    admin = Superuser("browser_admin", secrets.token_urlsafe(16))
    create = (
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_superuser({admin.username!r}, "
        f"{admin.username + '@example.com'!r}, {admin.password!r})"
    )
    for name in SERVICES:
        system.manage(name, "shell", "-c", create, capture=True)
    return admin


@pytest.fixture
def admins(page, gateway_url, superuser) -> Admins:
    return Admins(page, gateway_url, superuser)


# The course's order: two positions, 3 x 5 + 4 x 1 = 19.
POSITIONS = [
    {"productId": 111, "price": 3, "quantity": 5},
    {"productId": 112, "price": 4, "quantity": 1},
]


@dataclass(frozen=True)
class PaidOrder:
    id: int
    user: User
    positions: list[dict]
    total: str  # as the admin shows money: "19.00"

    @property
    def username(self) -> str:
        return self.user.username


@pytest.fixture
def paid_order(gateway_api) -> PaidOrder:
    """A new user with money and one PAID order, made through the API as a client makes it."""
    user = register_user(gateway_api, balance=1000, prefix="alice")
    response = user.order(POSITIONS, shopId=1)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "PAID", order
    return PaidOrder(order["id"], user, POSITIONS, "19.00")


# --- screenshots of failures --------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # At the report of the test's call, its context and pages are still open.
    context = item.funcargs.get("context") if hasattr(item, "funcargs") else None
    if report.failed and report.when in ("setup", "call") and context is not None:
        saved = _save_pages(context, item.nodeid)
        if saved:
            report.sections.append(("browser artefacts", "\n".join(map(str, saved))))
    return report


def _save_pages(context: BrowserContext, nodeid: str) -> list[Path]:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("/")[-1])
    saved = []
    for number, page in enumerate(context.pages, start=1):
        base = ARTIFACTS_DIR / f"{stem}-{number}"
        try:
            page.screenshot(path=f"{base}.png", full_page=True)
            Path(f"{base}.html").write_text(f"<!-- {page.url} -->\n{page.content()}")
        except Exception as error:  # a crashed page must not hide the test's own failure
            Path(f"{base}.txt").write_text(f"{page.url}\ncould not save the page: {error}\n")
        saved += sorted(ARTIFACTS_DIR.glob(f"{base.name}.*"))
    return saved
