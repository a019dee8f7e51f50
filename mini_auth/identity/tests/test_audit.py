import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from identity.audit import registration_complete_usernames, registration_pending_export
from identity.models import Registration
from identity.tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_complete_usernames_leave_out_pending_registrations_and_plain_admins():
    RegistrationFactory(username="alice", user__username="alice")
    RegistrationFactory(pending=True, user__username="carol")
    UserFactory(username="root", is_staff=True)  # createsuperuser: nothing owed elsewhere

    assert list(registration_complete_usernames()) == ["alice"]


def test_pending_export_says_how_old_and_how_far():
    registration = RegistrationFactory(pending=True, user__username="carol")
    created = timezone.now() - timedelta(minutes=5)
    Registration.objects.filter(pk=registration.pk).update(
        created_at=created, profile_created=True, attempts=2, last_error="dependency_unavailable: x"
    )

    [row] = registration_pending_export(now=created + timedelta(seconds=300))
    assert row == {
        "username": "carol",
        "createdAt": created.isoformat(),
        "ageSeconds": 300,
        "profileCreated": True,
        "accountCreated": False,
        "attempts": 2,
        "lastError": "dependency_unavailable: x",
    }


def test_audit_export_prints_one_json_document():
    RegistrationFactory(user__username="alice")
    RegistrationFactory(pending=True, user__username="carol")
    out = StringIO()
    call_command("audit_export", stdout=out)

    document = json.loads(out.getvalue())
    assert document["service"] == "mini_auth"
    assert document["completeUsernames"] == ["alice"]
    assert [r["username"] for r in document["pendingRegistrations"]] == ["carol"]
