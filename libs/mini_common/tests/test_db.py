"""mini_common.db: conditional updates that keep the instance in step with its row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mini_common.db import update_if_unchanged
from mini_common.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

State = IdempotencyRecord.State


def record() -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        method="POST", path="/x", key="k", fingerprint="f", state=State.PROCESSING,
        locked_until=timezone.now(),
    )  # fmt: skip


def test_a_matching_row_is_updated_and_copied_without_a_read():
    row = record()
    with CaptureQueriesContext(connection) as queries:
        moved = update_if_unchanged(
            row, where={"state": State.PROCESSING}, state=State.COMPLETED, response_status=201
        )
    assert moved is True
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    assert (row.state, row.response_status) == (State.COMPLETED, 201)
    stored = IdempotencyRecord.objects.get(pk=row.pk)
    assert (stored.state, stored.response_status) == (State.COMPLETED, 201)


def test_a_row_changed_meanwhile_is_left_alone_and_re_read():
    row = record()
    IdempotencyRecord.objects.filter(pk=row.pk).update(state=State.RETRYABLE)
    moved = update_if_unchanged(row, where={"state": State.PROCESSING}, state=State.COMPLETED)
    assert moved is False
    assert row.state == State.RETRYABLE
    assert IdempotencyRecord.objects.get(pk=row.pk).state == State.RETRYABLE


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the server closes a backend (Django's CONN_HEALTH_CHECKS)",
)
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_next_request_uses_it():
    import psycopg2
    from django.core.signals import request_finished, request_started

    connection.ensure_connection()
    old_pid = connection.connection.get_backend_pid()
    admin = psycopg2.connect(**connection.get_connection_params())
    try:
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", [old_pid])
    finally:
        admin.close()

    # What each request does around its work (CONN_MAX_AGE keeps the connection).
    request_finished.send(sender=None)
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid
