"""Getting into the five admins with a real browser, through the gateway."""

import re

from playwright.sync_api import expect

from tests.browser.admin import ADMINS, expect_logged_in, site_header


def test_one_browser_stays_logged_in_to_all_five_admins(admins, context):
    for short in ADMINS:
        admins.log_in(short)

    # Each admin's cookies carry its own name and path: a later login replaced no earlier one.
    for short in ADMINS:
        admins.open(short)
        expect(admins.page).to_have_url(admins.url(short))  # not sent back to the login form
        expect_logged_in(admins.page)
    session_cookies = {c["name"]: c["path"] for c in context.cookies() if "sessionid" in c["name"]}
    assert session_cookies == {f"{short}_sessionid": f"/admin/{short}/" for short in ADMINS}


def test_a_wrong_password_shows_the_forms_error_not_a_403(admins):
    admins.open("order")
    answer = admins.submit_login(admins.superuser.username, "not-" + admins.superuser.password)

    assert answer.status == 200  # the form again, with its error; not a CSRF 403
    page = admins.page
    expect(page.get_by_text("Please enter the correct username and password")).to_be_visible()
    expect(page.locator("#id_password")).to_be_visible()


def test_each_admin_names_its_service_and_links_to_the_other_four(admins):
    page = admins.page
    for short in ADMINS:
        admins.open(short)  # the login page
        expect(page.get_by_role("banner")).to_contain_text(site_header(short))
        expect(page).to_have_title(re.compile(f"mini_{short}"))

        admins.log_in(short)
        header = page.get_by_role("banner")
        expect(header).to_contain_text(site_header(short))
        expect(page).to_have_title(re.compile(f"mini_{short}"))
        for other in ADMINS:
            if other != short:
                expect(header.locator(f'nav a[href="/admin/{other}/"]')).to_be_visible()
