import json
from io import StringIO

import pytest
from django.core.management import call_command

from profiles.audit import profile_usernames
from profiles.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def test_profile_usernames_in_creation_order():
    ProfileFactory(username="bob")
    ProfileFactory(username="alice")
    assert list(profile_usernames()) == ["bob", "alice"]


def test_audit_export_prints_one_json_document():
    ProfileFactory(username="alice")
    out = StringIO()
    call_command("audit_export", stdout=out)
    assert json.loads(out.getvalue()) == {"service": "mini_user", "profileUsernames": ["alice"]}
