"""A user's name and everything under it stay theirs: users are never deleted.

Deleting a user in mini_auth once left the profile, the account (with its
money), the orders and the notifications in the other services, and the name
free: whoever registered it next inherited all of it. Now deleting a user is
refused (deactivate instead), and a registration that finds an earlier owner's
records under its name ends FAILED, for good, instead of handing them over.
The earlier owner here is made the way it happened before: the user deleted
through the ORM, with the guard that now refuses it switched off.
"""

from tests.security.test_tokens import PROBE, _shell
from tests.support import assert_problem, login, register_user, registration_body

DELETE_AS_BEFORE = (
    "from django.contrib.auth import get_user_model as m\n"
    "from django.db.models.signals import pre_delete\n"
    "pre_delete.disconnect(sender=m(), dispatch_uid='identity.user_never_deleted')\n"
    "m().objects.get(username={name!r}).delete()\n"
)


def _reconcile(system) -> str:
    result = system.manage("auth", "reconcile", capture=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_deleting_a_user_is_refused_and_they_keep_working(secure_system, gateway):
    user = register_user(gateway, prefix="kept")
    result = secure_system.manage(
        "auth",
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as m; "
        f"m().objects.get(username={user.username!r}).delete()",
        capture=True,
        check=False,
    )
    assert result.returncode != 0
    assert "UserDeletionRefused" in result.stdout + result.stderr
    assert user.api.get(PROBE).status_code == 200
    assert login(gateway, user.username)["accessToken"]


def test_a_deleted_users_name_registered_again_inherits_nothing(secure_system, gateway):
    owner = register_user(gateway, balance=70, prefix="owner")
    assert owner.order([{"productId": 1, "price": 10, "quantity": 1}]).json()["status"] == "PAID"
    _shell(secure_system, DELETE_AS_BEFORE.format(name=owner.username))

    # The same name, the same e-mail, another password: once a 201 with the money.
    body = registration_body(owner.username, password="An0ther-secret-pass")
    assert_problem(gateway.post("/api/v1/auth/register", body), 409, "username_taken")
    login_attempt = {"username": owner.username, "password": "An0ther-secret-pass"}
    assert_problem(gateway.post("/api/v1/auth/login", login_attempt), 401)

    # Another e-mail: once a 409 left PENDING and retried by every reconcile, forever.
    other = registration_body(owner.username, email="someone.else@example.com")
    _shell(secure_system, DELETE_AS_BEFORE.format(name=owner.username))
    assert_problem(gateway.post("/api/v1/auth/register", other), 409, "username_taken")
    assert owner.username not in _reconcile(secure_system)  # not pending: FAILED, for good
