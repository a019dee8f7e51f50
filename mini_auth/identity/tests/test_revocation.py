"""Tokens die with their user's rights: deactivation, deletion, demotion (signals)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import F
from rest_framework_simplejwt import tokens as tokens_module

from identity.models import TokenFamily, UserTokenCutoff
from identity.revocation import revocations_rewarm
from identity.signals import UserDeletionRefused, UsernameChangeRefused
from identity.tests.factories import PASSWORD, UserFactory
from identity.tokens import tokens_issue

# Real commits: the cache is written by on_commit callbacks, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()

VERIFY = "/api/v1/auth/verify"
REFRESH = "/api/v1/auth/refresh"


def verify_status(nginx_client, access: str) -> int:
    return nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def make_cutoff_older(seconds: int = 5):
    """Move every cut-off back: tokens issued from now on come after it (iat has whole
    seconds, so a token of the cut-off's own second would be void)."""
    UserTokenCutoff.objects.update(not_before=F("not_before") - timedelta(seconds=seconds))
    revocations_rewarm()


@pytest.fixture
def issued_earlier(monkeypatch):
    """Tokens issued inside ``with issued_earlier():`` have an iat 10 seconds back."""

    @contextmanager
    def earlier():
        real = tokens_module.aware_utcnow
        with monkeypatch.context() as patch:
            patch.setattr(tokens_module, "aware_utcnow", lambda: real() - timedelta(seconds=10))
            yield

    return earlier


def test_deactivating_a_user_voids_their_tokens_without_verify_querying(
    nginx_client, django_assert_num_queries, make_user_client
):
    user = UserFactory(username="alice")
    tokens = tokens_issue(user=user)
    assert verify_status(nginx_client, tokens.access) == 200

    user.is_active = False
    user.save()

    with django_assert_num_queries(0):
        assert verify_status(nginx_client, tokens.access) == 401
    refused = make_user_client().post(REFRESH, {"refreshToken": tokens.refresh}, format="json")
    assert refused.status_code == 401
    assert UserTokenCutoff.objects.get(username="alice").reason == "deactivated"


def test_users_are_never_deleted():
    alice = UserFactory(username="alice")
    with pytest.raises(UserDeletionRefused):
        alice.delete()
    with pytest.raises(UserDeletionRefused):
        User.objects.filter(username="alice").delete()
    assert User.objects.filter(username="alice").exists()


def test_losing_the_admin_role_voids_tokens_that_carry_it(nginx_client):
    root = UserFactory(username="root", is_staff=True)
    tokens = tokens_issue(user=root)
    assert nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {tokens.access}")["X-Roles"] == (
        "user,admin"
    )

    root.is_staff = False
    root.save()

    assert verify_status(nginx_client, tokens.access) == 401
    make_cutoff_older()
    fresh = nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=root).access}")
    assert fresh.status_code == 200 and fresh["X-Roles"] == "user"


@pytest.mark.parametrize(
    "change",
    [
        {"email": "new@example.com"},
        {"is_staff": True},  # gaining a role takes nothing away
        {"first_name": "Ada"},
    ],
)
def test_changes_that_take_no_rights_away_leave_tokens_alone(nginx_client, change):
    user = UserFactory(username="alice")
    tokens = tokens_issue(user=user)
    for name, value in change.items():
        setattr(user, name, value)
    user.save()
    assert verify_status(nginx_client, tokens.access) == 200
    assert not UserTokenCutoff.objects.exists()


def test_a_pending_registration_activated_or_created_inactive_is_no_cutoff():
    user = UserFactory(username="alice", is_active=False)
    user.is_active = True
    user.save()
    assert not UserTokenCutoff.objects.exists()


@pytest.mark.default_hasher
def test_a_password_rehash_at_login_voids_nothing(make_user_client, nginx_client):
    from django.contrib.auth.hashers import make_password

    user = UserFactory(username="alice")
    tokens = tokens_issue(user=user)
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha1"))

    login = make_user_client().post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert login.status_code == 200
    assert verify_status(nginx_client, tokens.access) == 200


def test_logout_with_an_already_rotated_refresh_token_revokes_the_session(
    make_user_client, nginx_client
):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    client = make_user_client()
    rotated = client.post(REFRESH, {"refreshToken": tokens.refresh}, format="json").json()

    response = make_user_client("alice").post(
        "/api/v1/auth/logout",
        {"refreshToken": tokens.refresh},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {rotated['accessToken']}",
    )

    assert response.status_code == 401
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.Reason.REUSE
    assert verify_status(nginx_client, rotated["accessToken"]) == 401
    again = client.post(REFRESH, {"refreshToken": rotated["refreshToken"]}, format="json")
    assert again.status_code == 401


def test_a_new_password_voids_every_token_issued_before(
    nginx_client, make_user_client, issued_earlier
):
    alice = UserFactory(username="alice")
    with issued_earlier():
        tokens = tokens_issue(user=alice)
    assert verify_status(nginx_client, tokens.access) == 200

    alice.set_password("Brand-new-pass-77")
    alice.save()

    assert verify_status(nginx_client, tokens.access) == 401
    refused = make_user_client().post(REFRESH, {"refreshToken": tokens.refresh}, format="json")
    assert refused.status_code == 401
    assert UserTokenCutoff.objects.get(username="alice").reason == "password changed"


def test_a_login_that_rehashes_the_password_ends_no_session(nginx_client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    alice = UserFactory(username="alice")
    tokens = tokens_issue(user=alice)
    # Newer hasher parameters: the next check of the password re-hashes and saves it.
    alice.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    alice.save(update_fields=["password"])
    UserTokenCutoff.objects.all().delete()
    assert alice.check_password(PASSWORD)
    assert User.objects.get(pk=alice.pk).password.startswith("md5$")  # it was re-hashed
    assert not UserTokenCutoff.objects.exists()
    assert verify_status(nginx_client, tokens.access) == 200


def test_a_username_never_changes():
    alice = UserFactory(username="alice")
    alice.username = "mallory"
    with pytest.raises(UsernameChangeRefused):
        alice.save()
    assert User.objects.filter(username="alice").exists()
