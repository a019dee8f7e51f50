import pytest

from profiles.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/user/profiles/profile/"


def test_a_profile_is_editable_and_links_to_the_users_other_records(admin_client):
    profile = ProfileFactory(username="alice", email="alice@example.com")
    page = admin_client.get(f"{ADMIN}{profile.pk}/change/")
    assert set(page.context["adminform"].form.fields) >= {"email", "phone"}
    html = page.content.decode()
    assert "mini_user administration" in html
    assert 'href="/admin/auth/auth/user/?username=alice"' in html
    assert 'href="/admin/billing/billing/account/?username=alice"' in html


def test_the_auth_admins_link_finds_the_profile(admin_client):
    profile = ProfileFactory(username="alice")
    ProfileFactory(username="bob")
    listing = admin_client.get(ADMIN, {"username": "alice"}).context["cl"]
    assert [p.pk for p in listing.result_list] == [profile.pk]
