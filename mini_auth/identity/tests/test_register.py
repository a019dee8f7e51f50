import pytest
from django.contrib.auth import get_user_model

from identity.models import Registration
from identity.services import ReconcileSummary, registrations_reconcile
from identity.tests.factories import RegistrationFactory
from mini_common.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

User = get_user_model()

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/verify"
ALICE = {
    "username": "alice",
    "password": "Wonder-land-42",
    "email": "alice@example.com",
    "phone": "+1 555 0100",
    "firstName": "Alice",
    "lastName": "Liddell",
}
ALICE_CONTACT = {
    "email": "alice@example.com",
    "phone": "+1 555 0100",
    "first_name": "Alice",
    "last_name": "Liddell",
}


@pytest.fixture
def client(make_user_client):
    """A public client as the gateway forwards it: internal token, no identity."""
    return make_user_client()


def register(client, body=ALICE, **headers):
    return client.post(REGISTER, body, format="json", **headers)


def login_status(client, username="alice", password=ALICE["password"]) -> int:
    response = client.post(LOGIN, {"username": username, "password": password}, format="json")
    return response.status_code


def test_register_creates_active_user_profile_and_account(client, fake_services):
    response = register(client)

    assert response.status_code == 201
    assert response.json() == {
        "username": "alice",
        "email": "alice@example.com",
        "phone": "+1 555 0100",
        "firstName": "Alice",
        "lastName": "Liddell",
    }
    user = User.objects.get(username="alice")
    assert user.is_active and not user.is_staff
    assert user.password != ALICE["password"] and user.check_password(ALICE["password"])
    registration = user.registration
    assert registration.status == Registration.Status.COMPLETE
    assert registration.profile_created and registration.account_created
    assert fake_services.profiles["alice"] == ALICE_CONTACT
    assert fake_services.accounts == {"alice"}
    assert login_status(client) == 200


def test_optional_fields_default_to_empty(client, fake_services):
    body = {"username": "bob", "password": "Wonder-land-42", "email": "bob@example.com"}
    response = register(client, body)
    assert response.status_code == 201
    assert response.json() == {
        "username": "bob",
        "email": "bob@example.com",
        "phone": "",
        "firstName": "",
        "lastName": "",
    }
    assert fake_services.profiles["bob"]["phone"] == ""


@pytest.mark.default_hasher
def test_password_is_stored_with_argon2id(client, fake_services):
    register(client)
    stored = User.objects.get(username="alice").password
    assert stored.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert User.objects.get(username="alice").check_password(ALICE["password"])


@pytest.mark.default_hasher
def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded_to_argon2id(client, fake_services):
    """Hashes from before the switch keep working; the next login re-hashes them, and that
    save takes no rights away, so no token of the user is voided by it."""
    from django.contrib.auth.hashers import make_password

    register(client)
    User.objects.filter(username="alice").update(
        password=make_password(ALICE["password"], hasher="pbkdf2_sha256")
    )

    response = client.post(
        "/api/v1/auth/login",
        {"username": "alice", "password": ALICE["password"]},
        format="json",
    )

    assert response.status_code == 200
    assert User.objects.get(username="alice").password.startswith("argon2$argon2id$")


def test_register_with_login_returns_working_tokens(client, fake_services, nginx_client):
    response = register(client, {**ALICE, "login": True})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "username",
        "email",
        "phone",
        "firstName",
        "lastName",
        "accessToken",
        "refreshToken",
    }
    verified = nginx_client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert verified.status_code == 200
    assert verified["X-Username"] == "alice"


def test_profile_step_down_leaves_user_inactive_then_same_request_completes(client, fake_services):
    fake_services.fail("profile")

    response = register(client)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "dependency_unavailable"
    assert int(response["Retry-After"]) >= 1
    registration = Registration.objects.get(username="alice")
    assert registration.status == Registration.Status.PENDING
    assert not registration.profile_created and not registration.user.is_active
    assert registration.last_error.startswith("dependency_unavailable")
    assert login_status(client) == 401

    fake_services.heal()
    again = register(client)

    assert again.status_code == 201
    registration.refresh_from_db()
    assert registration.status == Registration.Status.COMPLETE
    assert registration.attempts == 2 and registration.last_error == ""
    assert User.objects.get(username="alice").is_active
    assert login_status(client) == 200


def test_account_step_down_resumes_without_repeating_the_profile_step(client, fake_services):
    fake_services.fail("account")

    assert register(client).status_code == 503
    registration = Registration.objects.get(username="alice")
    assert registration.profile_created and not registration.account_created
    assert not registration.user.is_active
    assert login_status(client) == 401

    fake_services.heal()
    assert register(client).status_code == 201
    assert fake_services.steps_for("alice") == ["profile", "account", "account"]
    assert login_status(client) == 200


def test_failed_request_with_idempotency_key_can_be_retried_with_it(client, fake_services):
    key = {"HTTP_IDEMPOTENCY_KEY": "signup-alice-1"}
    fake_services.fail("account")
    assert register(client, **key).status_code == 503

    fake_services.heal()
    retried = register(client, **key)
    replayed = register(client, **key)

    assert retried.status_code == 201
    assert replayed.status_code == 201
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == retried.json()
    assert fake_services.steps_for("alice").count("account") == 2


def test_registering_a_complete_username_again_is_taken(client, fake_services):
    assert register(client).status_code == 201
    again = register(client)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "username_taken"


@pytest.mark.parametrize(
    "change",
    [
        {"password": "Another-pass-77"},
        {"email": "mallory@example.com"},
        {"firstName": "Mallory"},
    ],
)
def test_pending_registration_with_other_password_or_data_is_taken(client, fake_services, change):
    fake_services.fail("profile")
    register(client)
    fake_services.heal()

    response = register(client, {**ALICE, **change})

    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    registration = Registration.objects.get(username="alice")
    assert registration.status == Registration.Status.PENDING
    assert registration.email == "alice@example.com"
    assert registration.user.check_password(ALICE["password"])


def test_username_differing_only_in_case_is_taken(client, fake_services):
    RegistrationFactory(user__username="Alice")
    response = register(client)
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    assert not User.objects.filter(username="alice").exists()


def test_admin_created_user_name_is_taken(client, fake_services, django_user_model):
    django_user_model.objects.create_superuser("alice", "root@example.com", "Sup3r-secret-pw")
    assert register(client).status_code == 409


@pytest.mark.parametrize("contact", [{"email": "someone@example.com"}, {}])
def test_an_earlier_owners_profile_fails_the_registration_for_good(client, fake_services, contact):
    # The name's user was deleted before users were never deleted: mini_user still
    # has its profile (the same contact data or not). It is not the newcomer's.
    fake_services.profiles["alice"] = {**ALICE_CONTACT, **contact}

    response = register(client)

    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    registration = Registration.objects.get(username="alice")
    assert registration.status == Registration.Status.FAILED
    assert registration.last_error.startswith("username_taken")
    assert login_status(client) == 401
    assert "account" not in fake_services.steps_for("alice")  # stopped at the profile
    assert registrations_reconcile() == ReconcileSummary()  # never retried
    assert register(client).status_code == 409  # the same request again


def test_an_earlier_owners_account_fails_the_registration_and_hands_over_no_money(
    client, fake_services
):
    fake_services.accounts.add("alice")  # with the earlier owner's balance

    response = register(client)

    assert (response.status_code, response.json()["code"]) == (409, "username_taken")
    registration = Registration.objects.get(username="alice")
    assert (registration.status, registration.user.is_active) == ("FAILED", False)
    assert login_status(client) == 401


def test_a_resumed_registration_is_not_mistaken_for_an_earlier_owner(client, fake_services):
    fake_services.fail("account")
    assert register(client).status_code == 503  # the profile was made, the account not
    fake_services.heal()
    assert register(client).status_code == 201  # its own profile, under its own key


def test_extra_fields_are_a_400_that_names_them(client, fake_services):
    body = {**ALICE, "isStaff": True, "is_superuser": True, "status": "COMPLETE", "roles": "admin"}
    response = register(client, body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"isStaff", "is_superuser", "status", "roles"}
    assert not User.objects.filter(username="alice").exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"username": "al"}, "username"),
        ({"username": "a" * 151}, "username"),
        ({"username": "alice smith"}, "username"),
        ({"username": "alice@home"}, "username"),
        ({"username": "ålice"}, "username"),
        ({"username": "../../etc"}, "username"),
        ({"username": 12345}, "username"),
        ({"username": None}, "username"),
        ({"password": "short1!"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "83749216583"}, "password"),
        ({"password": "alice@example.com!"}, "password"),
        ({"password": 1234567890123}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ["alice@example.com"]}, "email"),
        ({"email": ""}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": 5550100}, "phone"),
        ({"phone": None}, "phone"),
        ({"firstName": "A" * 151}, "firstName"),
        ({"firstName": {"first": "A"}}, "firstName"),
        ({"lastName": False}, "lastName"),
        ({"login": "yes"}, "login"),
        ({"login": 1}, "login"),
    ],
)
def test_invalid_input_is_a_400_and_creates_nothing(client, fake_services, change, field):
    response = register(client, {**ALICE, **change})
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]
    assert not Registration.objects.exists()
    assert fake_services.calls == []


@pytest.mark.parametrize("missing", ["username", "password", "email"])
def test_missing_required_field_is_a_400(client, fake_services, missing):
    body = {key: value for key, value in ALICE.items() if key != missing}
    response = register(client, body)
    assert response.status_code == 400
    assert missing in response.json()["errors"]


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "validation_error"),  # DRF never parses an empty body: every field is missing
        ("{not json", "malformed_request"),
        ('{"username": NaN}', "malformed_request"),
        ("[]", "validation_error"),
        ('"alice"', "validation_error"),
        ("{}", "validation_error"),
    ],
)
def test_malformed_or_non_object_bodies_are_a_400(client, fake_services, raw, code):
    response = client.post(REGISTER, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_register_through_the_gateway_ignores_identity_headers(make_user_client, fake_services):
    """A public endpoint: whatever identity comes along does not scope or change anything."""
    response = register(make_user_client("mallory", roles="user,admin"))
    assert response.status_code == 201
    assert not User.objects.get(username="alice").is_staff


def test_register_without_internal_token_is_refused(anonymous_client, fake_services):
    response = register(anonymous_client)
    assert response.status_code == 401
    assert not Registration.objects.exists()


def test_a_replayed_registration_answers_without_tokens_and_none_are_stored(client, fake_services):
    body, key = {**ALICE, "login": True}, {"HTTP_IDEMPOTENCY_KEY": "reg-alice-1"}
    first = register(client, body, **key)
    again = register(client, body, **key)

    assert first.status_code == 201 and first.json()["refreshToken"]
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert "accessToken" not in again.json() and "refreshToken" not in again.json()
    assert again.json()["username"] == "alice"
    [stored] = IdempotencyRecord.objects.all()
    assert not {"accessToken", "refreshToken"} & set(stored.response_body)
