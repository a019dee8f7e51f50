import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from identity.audit import registration_pending_export
from identity.models import TokenFamily
from identity.story import user_story
from identity.tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def session(username, family, **fields):
    return TokenFamily.objects.create(
        username=username, family=family, expires_at=timezone.now() + timedelta(days=1), **fields
    )


def test_a_users_story_has_the_user_without_the_password_hash():
    RegistrationFactory(user__username="alice", user__is_staff=True)

    story = user_story(username="alice", limit=10)

    user = story["user"]
    assert (user["username"], user["isActive"], user["roles"]) == ("alice", True, ["user", "admin"])
    assert "password" not in user
    assert not any(str(value).startswith(("md5$", "argon2")) for value in user.values())
    assert story["registration"]["status"] == "COMPLETE"
    assert story["audit"] == {"completeUsernames": ["alice"], "pendingRegistrations": []}


def test_login_sessions_are_listed_newest_first_without_their_family_ids():
    UserFactory(username="alice")
    session("alice", "fam-first")
    session("alice", "fam-second", revoked_at=timezone.now(), revoked_reason="LOGOUT")
    session("bob", "fam-bob")

    story = user_story(username="alice", limit=1)

    [newest] = story["sessions"]
    assert (newest["revokedReason"], story["sessionsTotal"]) == ("LOGOUT", 2)
    assert "fam-second" not in json.dumps(story)


def test_a_pending_registration_is_the_audits_pending_row():
    RegistrationFactory(pending=True, user__username="carol")
    RegistrationFactory(pending=True, user__username="dave")

    story = user_story(username="carol", limit=10)

    assert story["user"]["isActive"] is False
    assert story["audit"]["completeUsernames"] == []
    assert [row["username"] for row in story["audit"]["pendingRegistrations"]] == ["carol"]
    [expected] = [row for row in registration_pending_export() if row["username"] == "carol"]
    assert story["audit"]["pendingRegistrations"][0].keys() == expected.keys()


def test_an_unknown_user_has_nothing():
    story = user_story(username="nobody", limit=10)
    assert (story["user"], story["registration"], story["sessions"]) == (None, None, [])


def test_story_user_prints_one_json_document():
    RegistrationFactory(user__username="alice")
    out = StringIO()
    call_command("story_user", "alice", stdout=out)
    document = json.loads(out.getvalue())
    assert (document["service"], document["user"]["username"]) == ("mini_auth", "alice")


def test_story_user_refuses_a_limit_below_one():
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("story_user", "alice", "--limit", "0")
