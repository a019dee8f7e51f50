import pytest

from profiles.models import Profile
from profiles.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

NEW_PROFILE = {"username": "alice", "email": "alice@example.com", "firstName": "Alice"}


def test_internal_create_then_same_body_returns_existing(make_service_client):
    client = make_service_client("mini_auth")
    first = client.post("/api/v1/user", NEW_PROFILE, format="json")
    again = client.post("/api/v1/user", NEW_PROFILE, format="json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["firstName"] == "Alice"
    assert Profile.objects.count() == 1


def test_internal_create_with_other_body_conflicts(make_service_client):
    client = make_service_client("mini_auth")
    client.post("/api/v1/user", NEW_PROFILE, format="json")
    response = client.post("/api/v1/user", {**NEW_PROFILE, "email": "x@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "profile_conflict"


def test_create_is_internal_only(make_user_client):
    response = make_user_client("alice").post("/api/v1/user", NEW_PROFILE, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_request_without_internal_token_is_refused(anonymous_client):
    response = anonymous_client.get("/api/v1/user/alice", HTTP_X_USERNAME="alice")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "al", "email": "a@example.com"}, "username"),
        ({"username": "alice", "email": "not-an-email"}, "email"),
        ({"username": "alice"}, "email"),
        ({"username": "alice", "email": "a@example.com", "phone": "call me"}, "phone"),
    ],
)
def test_create_validation_errors(make_service_client, body, field):
    response = make_service_client("mini_auth").post("/api/v1/user", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"username": 12345}, "username"),
        ({"email": 42}, "email"),
        ({"phone": 1234567}, "phone"),
        ({"firstName": 42}, "firstName"),
        ({"lastName": True}, "lastName"),
    ],
)
def test_create_refuses_numbers_for_text(make_service_client, change, field):
    body = {**NEW_PROFILE, **change}
    response = make_service_client("mini_auth").post("/api/v1/user", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][field] == ["Must be a string."]
    assert Profile.objects.count() == 0


def test_patch_refuses_numbers_for_text(make_user_client):
    ProfileFactory(username="alice", phone="")
    response = make_user_client("alice").patch(
        "/api/v1/user/alice", {"phone": 1234567}, format="json"
    )
    assert response.status_code == 400
    assert Profile.objects.get(username="alice").phone == ""


def test_owner_reads_profile_other_user_gets_404(make_user_client):
    ProfileFactory(username="alice")
    own = make_user_client("alice").get("/api/v1/user/alice")
    other = make_user_client("bob").get("/api/v1/user/alice")
    assert own.status_code == 200
    assert set(own.json()) == {
        "username",
        "email",
        "phone",
        "firstName",
        "lastName",
        "createdAt",
        "updatedAt",
    }
    assert other.status_code == 404


def test_admin_and_internal_read_any_profile(make_user_client, make_service_client):
    ProfileFactory(username="alice")
    assert make_user_client("root", roles="user,admin").get("/api/v1/user/alice").status_code == 200
    assert make_service_client("mini_order", "alice").get("/api/v1/user/alice").status_code == 200


def test_owner_patches_profile(make_user_client):
    ProfileFactory(username="alice", phone="")
    response = make_user_client("alice").patch(
        "/api/v1/user/alice", {"phone": "+44 20 7946 0000", "lastName": "L"}, format="json"
    )
    assert response.status_code == 200
    profile = Profile.objects.get(username="alice")
    assert (profile.phone, profile.last_name, profile.first_name) == (
        "+44 20 7946 0000",
        "L",
        "Ada",
    )


def test_other_user_cannot_patch(make_user_client):
    ProfileFactory(username="alice")
    response = make_user_client("bob").patch(
        "/api/v1/user/alice", {"phone": "123456"}, format="json"
    )
    assert response.status_code == 404


def test_malformed_json_is_a_problem(make_service_client):
    response = make_service_client("mini_auth").post(
        "/api/v1/user", data="{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_idempotency_key_replays_internal_create(make_service_client):
    client = make_service_client("mini_auth")
    headers = {"HTTP_IDEMPOTENCY_KEY": "register-alice-profile"}
    first = client.post("/api/v1/user", NEW_PROFILE, format="json", **headers)
    again = client.post("/api/v1/user", NEW_PROFILE, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_unknown_url_is_problem_json(make_user_client):
    response = make_user_client("alice").get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_health_endpoints_need_no_token(anonymous_client):
    assert anonymous_client.get("/healthz").status_code == 200
    assert anonymous_client.get("/readyz").json()["status"] == "ready"
