from datetime import timedelta

import jwt
import pytest
from django.core.cache import caches
from django.db.models import F
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from identity.models import RevokedAccessToken, TokenFamily, UserTokenCutoff
from identity.tests.factories import PASSWORD, RegistrationFactory, UserFactory
from identity.tests.jwt_helpers import access_token
from identity.tokens import TokenPair, tokens_issue

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
VERIFY = "/api/v1/auth/verify"


@pytest.fixture
def client(make_user_client):
    return make_user_client()


def login(client, username="alice", password=PASSWORD, **headers):
    body = {"username": username, "password": password}
    return client.post(LOGIN, body, format="json", **headers)


def refresh(client, token):
    return client.post(REFRESH, {"refreshToken": token}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def verify_status(nginx_client, access: str) -> int:
    return nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def assert_problem(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


# --- login ----------------------------------------------------------------------------


def test_login_issues_bearer_tokens(client, nginx_client):
    UserFactory(username="alice")

    response = login(client)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 300
    assert verify_status(nginx_client, body["accessToken"]) == 200


@pytest.mark.parametrize(
    "username, password",
    [
        ("alice", "Wrong-pass-99"),
        ("nobody", PASSWORD),
        ("ALICE", PASSWORD),
        ("alice", " " + PASSWORD),
    ],
)
def test_bad_credentials_are_a_401(client, username, password):
    UserFactory(username="alice")
    response = login(client, username, password)
    assert_problem(response, 401, "invalid_credentials")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unfinished_registration_cannot_log_in(client):
    RegistrationFactory(pending=True, user__username="alice")
    assert_problem(login(client), 401, "invalid_credentials")


def test_deactivated_user_cannot_log_in(client):
    UserFactory(username="alice", is_active=False)
    assert_problem(login(client), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": ""}, "password"),
        ({"username": 12345, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": 12345678}, "password"),
        ({"username": "alice", "password": True}, "password"),
        ({"username": ["alice"], "password": PASSWORD}, "username"),
        ({"username": "a" * 151, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "x" * 257}, "password"),
    ],
)
def test_invalid_login_input_is_a_400(client, body, field):
    response = client.post(LOGIN, body, format="json")
    assert_problem(response, 400, "validation_error")
    assert field in response.json()["errors"]


def test_login_is_throttled_per_address(client, settings):
    settings.LOGIN_THROTTLE_RATE = "3/min"
    UserFactory(username="alice")
    same_address = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    statuses = [
        login(client, f"user{n}", "whatever-pw-1", **same_address).status_code for n in range(3)
    ]

    throttled = login(client, **same_address)
    other_address = login(client, HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert statuses == [401, 401, 401]
    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    assert other_address.status_code == 200


def test_login_is_throttled_per_username_across_addresses(client, settings):
    settings.LOGIN_USERNAME_THROTTLE_RATE = "2/min"
    UserFactory(username="alice")
    for n in range(2):
        assert (
            login(client, "alice", "Wrong-pass-99", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
            == 401
        )

    assert_problem(login(client, "Alice", HTTP_X_FORWARDED_FOR="10.0.0.9"), 429, "throttled")
    assert login(client, "bob", PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 401


def test_address_is_the_last_forwarded_hop(client, settings):
    """Entries before nginx's own are the client's to invent; spoofing them changes nothing."""
    settings.LOGIN_THROTTLE_RATE = "1/min"
    assert (
        login(client, "x1", "pw-pw-pw-1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7").status_code
        == 401
    )
    response = login(client, "x2", "pw-pw-pw-1", HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.7")
    assert response.status_code == 429


# --- refresh --------------------------------------------------------------------------


def test_refresh_rotates_within_the_family(client, nginx_client):
    first = tokens_issue(user=UserFactory(username="alice"))

    response = refresh(client, first.refresh)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken"}
    assert body["refreshToken"] != first.refresh
    assert verify_status(nginx_client, body["accessToken"]) == 200
    second = refresh(client, body["refreshToken"])
    assert second.status_code == 200
    families = {
        claims(t)["fam"] for t in (first.refresh, body["refreshToken"], body["accessToken"])
    }
    assert families == {claims(second.json()["accessToken"])["fam"]}
    assert TokenFamily.objects.count() == 1


def test_reusing_a_refresh_token_revokes_its_whole_family(
    client, nginx_client, django_capture_on_commit_callbacks
):
    """The thief and the victim both hold the chain: whoever comes second reveals it, and
    every token of the session dies, refresh and access alike."""
    first = tokens_issue(user=UserFactory(username="alice"))
    rotated = refresh(client, first.refresh).json()
    newest = refresh(client, rotated["refreshToken"]).json()
    other_session = tokens_issue(user=UserFactory(username="alice"))

    with django_capture_on_commit_callbacks(execute=True):
        reuse = refresh(client, first.refresh)

    assert_problem(reuse, 401, "invalid_token")
    for access in (first.access, rotated["accessToken"], newest["accessToken"]):
        assert verify_status(nginx_client, access) == 401
    assert_problem(refresh(client, newest["refreshToken"]), 401, "invalid_token")
    family = TokenFamily.objects.get(family=claims(first.refresh)["fam"])
    assert family.revoked_reason == TokenFamily.Reason.REUSE
    live = OutstandingToken.objects.filter(
        family_member__family=family, blacklistedtoken__isnull=True
    )
    assert not live.exists()
    # Another session of the same user is not concerned.
    assert verify_status(nginx_client, other_session.access) == 200
    assert refresh(client, other_session.refresh).status_code == 200


def test_a_refresh_token_we_never_recorded_is_refused(client):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    OutstandingToken.objects.all().delete()  # e.g. purged, or minted elsewhere with our key
    assert_problem(refresh(client, tokens.refresh), 401, "invalid_token")


def test_refresh_of_a_user_cut_off_since_is_refused(client, django_capture_on_commit_callbacks):
    user = UserFactory(username="alice", is_staff=True)
    tokens = tokens_issue(user=user)
    user.is_staff = False
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert_problem(refresh(client, tokens.refresh), 401, "invalid_token")
    # iat has whole seconds: tokens of the cut-off's own second are void too; later ones live.
    UserTokenCutoff.objects.update(not_before=F("not_before") - timedelta(seconds=2))
    assert refresh(client, tokens_issue(user=user).refresh).status_code == 200


def test_refresh_picks_up_role_changes(client, nginx_client):
    user = UserFactory(username="alice")
    tokens = tokens_issue(user=user)
    user.is_staff = True
    user.save()

    access = refresh(client, tokens.refresh).json()["accessToken"]

    response = nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response["X-Roles"] == "user,admin"


def test_refresh_of_a_deactivated_user_is_refused(client):
    user = UserFactory()
    tokens = tokens_issue(user=user)
    user.is_active = False
    user.save()
    assert_problem(refresh(client, tokens.refresh), 401, "invalid_token")


def test_access_token_cannot_refresh(client):
    tokens = tokens_issue(user=UserFactory())
    assert_problem(refresh(client, tokens.access), 401, "invalid_token")


def test_expired_or_forged_refresh_is_refused(client):
    user = UserFactory()
    expired = access_token(user, expired=True, token_type="refresh")
    assert_problem(refresh(client, str(expired)), 401, "invalid_token")
    assert_problem(refresh(client, "not.a.token"), 401, "invalid_token")


@pytest.mark.parametrize("body", [{}, {"refreshToken": ""}, {"refreshToken": 42}, {"token": "x"}])
def test_invalid_refresh_input_is_a_400(client, body):
    assert_problem(client.post(REFRESH, body, format="json"), 400, "validation_error")


# --- logout ---------------------------------------------------------------------------


def logout(make_user_client, username, tokens, refresh_token=None, **headers):
    headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {tokens.access}")
    return make_user_client(username).post(
        LOGOUT, {"refreshToken": refresh_token or tokens.refresh}, format="json", **headers
    )


def test_logout_revokes_refresh_and_access_tokens(
    make_user_client, client, nginx_client, django_capture_on_commit_callbacks
):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    earlier = refresh(client, tokens.refresh).json()  # same session, still-live access token
    tokens = TokenPair(earlier["accessToken"], earlier["refreshToken"], 300)
    assert verify_status(nginx_client, tokens.access) == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = logout(make_user_client, "alice", tokens)

    assert response.status_code == 204
    assert response.content == b""
    assert verify_status(nginx_client, tokens.access) == 401
    assert_problem(refresh(client, tokens.refresh), 401, "invalid_token")
    revoked = RevokedAccessToken.objects.get()
    assert revoked.username == "alice"
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.Reason.LOGOUT
    assert BlacklistedToken.objects.count() == 2  # the rotated one and the last one


def test_revocation_lives_in_the_cache_for_the_tokens_remaining_lifetime(
    make_user_client, django_capture_on_commit_callbacks
):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    with django_capture_on_commit_callbacks(execute=True):
        logout(make_user_client, "alice", tokens)
    revoked = RevokedAccessToken.objects.get()
    cache = caches["revocations"]
    assert cache.get(f"access:{revoked.jti}") is True
    assert cache.get(f"family:{TokenFamily.objects.get().family}") is True


def test_logout_with_someone_elses_refresh_token_changes_nothing(make_user_client, client):
    alice = tokens_issue(user=UserFactory(username="alice"))
    bob = tokens_issue(user=UserFactory(username="bob"))

    response = logout(make_user_client, "alice", alice, refresh_token=bob.refresh)

    assert_problem(response, 401, "invalid_token")
    assert refresh(client, bob.refresh).status_code == 200
    assert not RevokedAccessToken.objects.exists()


def test_logout_with_someone_elses_access_token_changes_nothing(make_user_client, client):
    alice = tokens_issue(user=UserFactory(username="alice"))
    bob = tokens_issue(user=UserFactory(username="bob"))

    response = logout(make_user_client, "alice", alice, HTTP_AUTHORIZATION=f"Bearer {bob.access}")

    assert_problem(response, 401, "invalid_token")
    assert refresh(client, alice.refresh).status_code == 200


def test_logout_needs_the_access_token(make_user_client):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    response = logout(make_user_client, "alice", tokens, HTTP_AUTHORIZATION="")
    assert_problem(response, 401, "not_authenticated")


def test_logout_needs_a_user(client):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    response = client.post(
        LOGOUT,
        {"refreshToken": tokens.refresh},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {tokens.access}",
    )
    assert_problem(response, 401, "not_authenticated")


def test_logout_twice_with_the_same_refresh_token_is_refused(make_user_client):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    assert logout(make_user_client, "alice", tokens).status_code == 204
    assert_problem(logout(make_user_client, "alice", tokens), 401, "invalid_token")


def test_logout_with_an_expired_access_token_still_revokes_the_refresh_token(
    make_user_client, client
):
    user = UserFactory(username="alice")
    tokens = tokens_issue(user=user)
    expired = str(access_token(user, expired=True))

    response = logout(make_user_client, "alice", tokens, HTTP_AUTHORIZATION=f"Bearer {expired}")

    assert response.status_code == 204
    assert not RevokedAccessToken.objects.exists()  # nothing left to revoke
    assert_problem(refresh(client, tokens.refresh), 401, "invalid_token")


@pytest.mark.parametrize("body", [{}, {"refreshToken": None}, {"refreshToken": ["x"]}])
def test_invalid_logout_input_is_a_400(make_user_client, body):
    tokens = tokens_issue(user=UserFactory(username="alice"))
    response = make_user_client("alice").post(
        LOGOUT, body, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens.access}"
    )
    assert_problem(response, 400, "validation_error")


# --- claims a signed token may hold but nothing can compare ---------------------------------


@pytest.mark.parametrize("exp", [1e30, 10**400, "9999999999"], ids=["1e30", "10**400", "str"])
def test_a_signed_refresh_or_access_token_with_an_unusable_exp_is_a_401(client, exp):
    from identity.tests.jwt_helpers import signed

    UserFactory(username="alice")
    tokens = login(client).json()
    odd_refresh = signed({**claims(tokens["refreshToken"]), "exp": exp})
    odd_access = signed({**claims(tokens["accessToken"]), "exp": exp})

    assert_problem(refresh(client, odd_refresh), 401, "invalid_token")
    logout = client.post(
        LOGOUT,
        {"refreshToken": tokens["refreshToken"]},
        format="json",
        HTTP_X_USERNAME="alice",
        HTTP_AUTHORIZATION=f"Bearer {odd_access}",
    )
    assert_problem(logout, 401, "invalid_token")


def test_a_lone_surrogate_in_a_login_is_a_400_not_a_500(client):
    # The username throttle hashes the name; "\ud800" cannot be encoded. The parser
    # refuses it before any throttle or view sees it.
    response = client.post(
        LOGIN, '{"username": "\\ud800", "password": "x"}', content_type="application/json"
    )
    assert_problem(response, 400, "malformed_request")
