"""mini_notif's /metrics: the notifications owed and the last reconcile run, read at scrape time."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mini_common import metrics
from mini_common.testing import RECONCILE_METRICS
from notifications.models import Notification, ReconcileRun
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.DeliveryStatus
RECONCILE = RECONCILE_METRICS


def scrape(client) -> dict[tuple[str, tuple], float]:
    """{(sample name, label values): value} of what /metrics answers."""
    response = client.get("/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.content.decode())
    return {(s.name, tuple(s.labels.values())): s.value for f in families for s in f.samples}


def owed(samples, status: str) -> float:
    return samples[("mini_notifications_owed", (status,))]


def test_owed_notifications_by_status_with_the_oldest_ones_age(anonymous_client):
    started = timezone.now()
    NotificationFactory(created_at=started - timedelta(seconds=2000))  # SENT
    NotificationFactory(
        delivery_status=Status.FAILED, sent_at=None, created_at=started - timedelta(seconds=300)
    )
    NotificationFactory(
        delivery_status=Status.FAILED, sent_at=None, created_at=started - timedelta(seconds=20)
    )
    NotificationFactory(
        delivery_status=Status.PENDING, sent_at=None, created_at=started - timedelta(seconds=120)
    )

    samples = scrape(anonymous_client)

    elapsed = (timezone.now() - started).total_seconds()
    assert (owed(samples, "PENDING"), owed(samples, "FAILED")) == (1, 2)
    age = samples[("mini_notifications_owed_oldest_age_seconds", ())]
    assert 300 <= age <= 300 + elapsed


def test_nothing_owed_is_zero_for_each_status(anonymous_client):
    NotificationFactory(created_at=timezone.now() - timedelta(seconds=2000))
    samples = scrape(anonymous_client)
    assert (owed(samples, "PENDING"), owed(samples, "FAILED")) == (0, 0)
    assert samples[("mini_notifications_owed_oldest_age_seconds", ())] == 0


def test_reconcile_runs_are_recorded_for_the_scrape(anonymous_client, monkeypatch):
    assert not {(name, ()) for name in RECONCILE} & set(scrape(anonymous_client))

    before = time.time()
    call_command("reconcile", stdout=StringIO())
    after = time.time()
    start, success, failure = (scrape(anonymous_client)[(name, ())] for name in RECONCILE)
    assert before <= start <= success <= after
    assert failure == 0

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("notifications.management.commands.reconcile.notification_reconcile", crash)
    with pytest.raises(RuntimeError):
        call_command("reconcile")
    start, after_crash, failure = (scrape(anonymous_client)[(name, ())] for name in RECONCILE)
    assert after_crash == success < start <= failure
    assert ReconcileRun.objects.get().last_error == "RuntimeError: database went away"


def test_every_name_the_scrape_answers_is_declared(anonymous_client):
    call_command("reconcile", stdout=StringIO())
    answered = {name for name, _ in scrape(anonymous_client) if name.startswith("mini_")}
    answered -= {name for name in answered if name.endswith("_created")}  # not multiprocess
    expected = {"mini_notifications_owed", "mini_notifications_owed_oldest_age_seconds"}
    assert expected | set(RECONCILE) <= answered
    assert answered <= metrics.exported_names()
