"""Registration services used outside a request: resume and the reconcile job."""

import pytest

from identity import services
from identity.models import Registration
from identity.services import registration_resume, registrations_reconcile
from identity.tests.factories import RegistrationFactory
from mini_common.errors import NotFound

pytestmark = pytest.mark.django_db


def test_resume_completes_a_pending_registration(fake_services):
    RegistrationFactory(pending=True, user__username="alice", phone="+1 555 0100")

    registration = registration_resume(username="alice")

    assert registration.status == Registration.Status.COMPLETE
    assert registration.user.is_active
    assert fake_services.profiles["alice"]["phone"] == "+1 555 0100"


def test_resume_of_a_complete_registration_does_nothing(fake_services):
    RegistrationFactory(user__username="alice")
    assert registration_resume(username="alice").status == Registration.Status.COMPLETE
    assert fake_services.calls == []


def test_resume_of_an_unknown_username_is_not_found(fake_services):
    with pytest.raises(NotFound):
        registration_resume(username="nobody")


def test_one_broken_registration_does_not_stop_the_job(fake_services, monkeypatch):
    RegistrationFactory(pending=True, user__username="alice")
    RegistrationFactory(pending=True, user__username="bob")

    def broken_profile_step(*, username, **contact):
        if username == "alice":
            raise RuntimeError("a bug")
        fake_services.profile_create(username=username, **contact)

    monkeypatch.setattr(services.remote, "profile_create", broken_profile_step)

    summary = registrations_reconcile()

    assert (summary.pending, summary.completed) == (2, 1)
    assert summary.failed == {"alice": "internal_error"}
    assert Registration.objects.get(username="bob").status == Registration.Status.COMPLETE
