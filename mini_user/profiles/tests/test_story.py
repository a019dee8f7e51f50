import json
from io import StringIO

import pytest
from django.core.management import call_command

from profiles.story import user_story
from profiles.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def test_a_users_story_is_their_whole_profile():
    profile = ProfileFactory(username="alice", email="alice@example.com", phone="+1 555 0100")
    ProfileFactory(username="bob")

    story = user_story(username="alice")

    assert story["profile"] == {
        "id": profile.pk,
        "username": "alice",
        "email": "alice@example.com",
        "phone": "+1 555 0100",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "createdAt": profile.created_at.isoformat(),
        "updatedAt": profile.updated_at.isoformat(),
    }
    assert story["audit"] == {"profileUsernames": ["alice"]}


def test_a_user_without_a_profile_has_none():
    assert user_story(username="nobody") == {
        "service": "mini_user",
        "profile": None,
        "audit": {"profileUsernames": []},
    }


def test_story_user_prints_one_json_document():
    ProfileFactory(username="alice")
    out = StringIO()
    call_command("story_user", "alice", stdout=out)
    document = json.loads(out.getvalue())
    assert (document["service"], document["profile"]["username"]) == ("mini_user", "alice")
