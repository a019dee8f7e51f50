import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from identity.models import Registration, RevokedAccessToken, UserTokenCutoff
from identity.tests.factories import RegistrationFactory
from identity.tokens import tokens_issue

pytestmark = pytest.mark.django_db

ADMIN = "/admin/auth/"


@pytest.mark.parametrize(
    "page",
    [
        "identity/registration/",
        "identity/registration/?status__exact=PENDING",
        "identity/registration/?q=alice",
        "identity/revokedaccesstoken/",
        "identity/tokenfamily/",
        "identity/usertokencutoff/",
        "auth/user/",
        "token_blacklist/outstandingtoken/",
    ],
)
def test_admin_pages_load(admin_client, page):
    RegistrationFactory(user__username="alice")
    RegistrationFactory(pending=True, user__username="bob")
    RevokedAccessToken.objects.create(jti="j1", username="alice", expires_at="2100-01-01T00:00Z")
    assert admin_client.get(ADMIN + page).status_code == 200


def test_registrations_are_read_only(admin_client):
    registration = RegistrationFactory(pending=True)
    url = f"{ADMIN}identity/registration/{registration.pk}/change/"
    admin_client.post(url, {"status": "COMPLETE"})
    registration.refresh_from_db()
    assert registration.status == Registration.Status.PENDING
    assert admin_client.get(f"{ADMIN}identity/registration/add/").status_code == 403


def test_admin_action_resumes_pending_registrations(admin_client, fake_services):
    pending = RegistrationFactory(pending=True, user__username="bob")
    response = admin_client.post(
        f"{ADMIN}identity/registration/",
        {"action": "resume_registrations", "_selected_action": [pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Registration.Status.COMPLETE
    assert pending.user.is_active


def test_a_users_page_links_to_their_profile_account_and_orders(admin_client):
    user = RegistrationFactory(user__username="alice").user
    page = admin_client.get(f"{ADMIN}auth/user/{user.pk}/change/").content.decode()
    assert "mini_auth administration" in page
    assert 'href="/admin/user/profiles/profile/?username=alice"' in page
    assert 'href="/admin/billing/billing/account/?username=alice"' in page
    assert 'href="/admin/order/orders/order/?username=alice"' in page


def test_the_profile_admins_link_finds_the_user(admin_client):
    alice = RegistrationFactory(user__username="alice").user
    RegistrationFactory(user__username="bob")
    listing = admin_client.get(f"{ADMIN}auth/user/", {"username": "alice"}).context["cl"]
    assert [user.pk for user in listing.result_list] == [alice.pk]


def test_users_have_no_delete_only_a_deactivate_action(admin_client):
    alice = RegistrationFactory(user__username="alice").user
    page = admin_client.get(f"{ADMIN}auth/user/{alice.pk}/change/").content.decode()
    assert f"{ADMIN}auth/user/{alice.pk}/delete/" not in page
    assert (
        admin_client.post(f"{ADMIN}auth/user/{alice.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )

    response = admin_client.post(
        f"{ADMIN}auth/user/", {"action": "deactivate", "_selected_action": [alice.pk]}, follow=True
    )

    assert "1 user(s) deactivated." in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active is False
    assert UserTokenCutoff.objects.get(username="alice").reason == "deactivated"


def test_registrations_cannot_be_deleted(admin_client):
    registration = RegistrationFactory(user__username="alice")
    url = f"{ADMIN}identity/registration/{registration.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Registration.objects.filter(pk=registration.pk).exists()


def test_the_admin_shows_no_refresh_token_and_no_username_to_edit(admin_client):
    alice = RegistrationFactory(user__username="alice").user
    tokens = tokens_issue(user=alice)
    listing = admin_client.get(f"{ADMIN}token_blacklist/outstandingtoken/").content.decode()
    outstanding = OutstandingToken.objects.get(user=alice)
    page = admin_client.get(
        f"{ADMIN}token_blacklist/outstandingtoken/{outstanding.pk}/change/"
    ).content.decode()
    assert tokens.refresh not in listing and tokens.refresh not in page
    assert outstanding.jti in page

    user_page = admin_client.get(f"{ADMIN}auth/user/{alice.pk}/change/")
    assert "username" not in user_page.context["adminform"].form.fields
