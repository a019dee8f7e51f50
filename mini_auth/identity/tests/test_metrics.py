"""mini_auth's /metrics: the last reconcile run (pending registrations), read at scrape time."""

import time
from io import StringIO

import pytest
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from identity.models import ReconcileRun, Registration
from identity.tests.factories import RegistrationFactory
from mini_common import metrics
from mini_common.testing import RECONCILE_METRICS, scrape

pytestmark = pytest.mark.django_db

RECONCILE = RECONCILE_METRICS


def test_reconcile_runs_are_recorded_for_the_scrape(anonymous_client, fake_services):
    assert not set(RECONCILE) & set(scrape(anonymous_client)), "no run yet: no samples"
    RegistrationFactory(pending=True, user__username="alice")

    before = time.time()
    call_command("reconcile", stdout=StringIO())
    after = time.time()

    start, success, failure = (scrape(anonymous_client)[name] for name in RECONCILE)
    assert before <= start <= success <= after
    assert failure == 0
    assert Registration.objects.get(username="alice").status == Registration.Status.COMPLETE


def test_registrations_left_pending_by_a_dependency_are_a_successful_run(
    anonymous_client, fake_services
):
    # The next run finishes them: the run itself did its job, so the alert stays silent.
    RegistrationFactory(pending=True, user__username="alice")
    fake_services.fail("account")
    output = StringIO()

    call_command("reconcile", stdout=output)

    assert output.getvalue().strip().endswith("1 still pending: alice (dependency_unavailable)")
    start, success, failure = (scrape(anonymous_client)[name] for name in RECONCILE)
    assert start <= success and failure == 0


def test_a_failing_reconcile_is_recorded_and_still_fails(anonymous_client, monkeypatch):
    call_command("reconcile", stdout=StringIO())
    first_success = scrape(anonymous_client)[RECONCILE[1]]

    def crash():
        raise RuntimeError("registration table is locked")

    monkeypatch.setattr("identity.management.commands.reconcile.registrations_reconcile", crash)
    with pytest.raises(RuntimeError, match="locked"):
        call_command("reconcile")

    start, success, failure = (scrape(anonymous_client)[name] for name in RECONCILE)
    assert success == first_success
    assert success < start <= failure
    assert ReconcileRun.objects.get().last_error == "RuntimeError: registration table is locked"


def test_every_name_the_scrape_answers_is_declared(anonymous_client):
    call_command("reconcile", stdout=StringIO())
    response = anonymous_client.get("/metrics")
    families = text_string_to_metric_families(response.content.decode())
    answered = {s.name for f in families for s in f.samples if s.name.startswith("mini_")}
    answered -= {name for name in answered if name.endswith("_created")}  # not multiprocess
    assert set(RECONCILE) <= answered
    assert answered <= metrics.exported_names()
