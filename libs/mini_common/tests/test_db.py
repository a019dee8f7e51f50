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
    reason="needs PostgreSQL: the server closes a backend (mini_common.backends.postgresql)",
)
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_without_a_select_1():
    import time

    import psycopg2
    from django.core.signals import request_started

    connection.ensure_connection()
    old_pid = connection.connection.get_backend_pid()
    real = connection.connection
    connection.connection = spy = _CursorSpy(real)
    try:
        assert connection.is_usable()
    finally:
        connection.connection = real
    assert spy.cursors == 0  # the live connection was checked without a query
    admin = psycopg2.connect(**connection.get_connection_params())
    try:
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", [old_pid])
    finally:
        admin.close()
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye is on its way
    assert not connection.is_usable()

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    request_started.send(sender=None)  # what Django does at the start of every request
    with connection.execute_wrapper(record), connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != old_pid
    assert statements == ["SELECT pg_backend_pid()"]  # no SELECT 1 before it


class _CursorSpy:
    """A psycopg2 connection that counts the cursors asked of it."""

    def __init__(self, real):
        self.real, self.cursors = real, 0

    def cursor(self, *args, **kwargs):
        self.cursors += 1
        return self.real.cursor(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)
