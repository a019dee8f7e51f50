"""mini_order's /metrics: the NEW orders and the last reconcile run, read at scrape time."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mini_common import metrics
from mini_common.testing import RECONCILE_METRICS, scrape
from orders.models import Order, ReconcileRun
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

RECONCILE = RECONCILE_METRICS


def test_new_orders_counted_with_the_oldest_ones_age(anonymous_client):
    started = timezone.now()
    OrderFactory(created_at=started - timedelta(seconds=90))
    OrderFactory(created_at=started - timedelta(seconds=30))
    for status in (Order.Status.PAID, Order.Status.CANCELLED, Order.Status.INSUFFICIENT_FUNDS):
        OrderFactory(status=status, created_at=started - timedelta(seconds=1000))

    samples = scrape(anonymous_client)

    elapsed = (timezone.now() - started).total_seconds()
    assert samples["mini_orders_new"] == 2
    assert 90 <= samples["mini_orders_new_oldest_age_seconds"] <= 90 + elapsed


def test_no_new_order_is_a_zero_count_and_age(anonymous_client):
    OrderFactory(status=Order.Status.PAID, created_at=timezone.now() - timedelta(seconds=1000))
    samples = scrape(anonymous_client)
    assert (samples["mini_orders_new"], samples["mini_orders_new_oldest_age_seconds"]) == (0, 0)


def test_reconcile_runs_are_recorded_for_the_scrape(anonymous_client, fake_remote):
    assert not set(RECONCILE) & set(scrape(anonymous_client)), "no run yet: no samples"

    before = time.time()
    call_command("reconcile", stdout=StringIO())
    after = time.time()

    start, success, failure = (scrape(anonymous_client)[name] for name in RECONCILE)
    assert before <= start <= success <= after
    assert failure == 0


def test_a_failing_reconcile_is_recorded_and_still_fails(anonymous_client, monkeypatch):
    call_command("reconcile", stdout=StringIO())
    first_success = scrape(anonymous_client)[RECONCILE[1]]

    def crash():
        raise RuntimeError("billing answered nonsense")

    monkeypatch.setattr("orders.management.commands.reconcile.orders_reconcile", crash)
    with pytest.raises(RuntimeError, match="nonsense"):
        call_command("reconcile")

    start, success, failure = (scrape(anonymous_client)[name] for name in RECONCILE)
    assert success == first_success
    assert success < start <= failure
    assert ReconcileRun.objects.get().last_error == "RuntimeError: billing answered nonsense"


def test_every_name_the_scrape_answers_is_declared(anonymous_client, fake_remote):
    OrderFactory()
    call_command("reconcile", stdout=StringIO())
    response = anonymous_client.get("/metrics")
    families = text_string_to_metric_families(response.content.decode())
    answered = {s.name for f in families for s in f.samples if s.name.startswith("mini_")}
    answered -= {name for name in answered if name.endswith("_created")}  # not multiprocess
    assert {"mini_orders_new", "mini_orders_new_oldest_age_seconds", *RECONCILE} <= answered
    assert answered <= metrics.exported_names()
