"""Test helpers for services: API clients that speak as the gateway or a service.

Use from a service's ``conftest.py``::

    from mini_common.testing import *  # noqa: F403  (fixtures)
"""

import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from mini_common.breakers import reset_breakers
from mini_common.client import reset_clients


def gateway_client(username: str | None = None, roles: str = "user") -> APIClient:
    """A client whose requests look like they came through the gateway for ``username``."""
    client = APIClient()
    headers = {"HTTP_X_INTERNAL_TOKEN": settings.MINI_COMMON["INTERNAL_TOKEN"]}
    if username:
        headers |= {"HTTP_X_USERNAME": username, "HTTP_X_ROLES": roles}
    client.credentials(**headers)
    return client


def service_client_for_tests(service: str = "mini_test", username: str | None = None) -> APIClient:
    """A client whose requests look like another service's internal calls."""
    client = gateway_client(username)
    client.credentials(
        HTTP_X_INTERNAL_TOKEN=settings.MINI_COMMON["INTERNAL_TOKEN"],
        HTTP_X_SERVICE=service,
        **({"HTTP_X_USERNAME": username} if username else {}),
    )
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user_client():
    return gateway_client


@pytest.fixture
def make_service_client():
    return service_client_for_tests


@pytest.fixture(autouse=True)
def fresh_clients_and_breakers():
    """Every test starts with closed breakers and no pooled connections."""
    reset_clients()
    reset_breakers()
    yield
    reset_clients()
    reset_breakers()


def run_in_threads(work: Callable[[int], object], count: int) -> list:
    """Run ``work(i)`` in ``count`` threads released at once; results (or exceptions) in order.

    For races the database must settle (unique constraints, conditional updates):
    each thread uses its own connection, closed when it is done.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - returned for the test's assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def migrated_to(app_label: str, migration: str):
    """The app registry of the database migrated to (``app_label``, ``migration``).

    For tests of data migrations: migrate back, write rows with the old models,
    then ``migrated_to`` the new migration and read them with the new ones. Use in
    a ``transactional_db`` test; the database is migrated forward again after it.
    """
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([(app_label, migration)])
    executor.loader.build_graph()  # the applied set changed
    return executor.loader.project_state([(app_label, migration)]).apps


@pytest.fixture
def migrations_restored(transactional_db):
    """Migrates every app to its latest migration after the test."""
    yield
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# What every reconciling service exports about its last `manage.py reconcile` run.
RECONCILE_METRICS = [
    f"mini_reconcile_last_{what}_timestamp_seconds" for what in ("start", "success", "failure")
]


def scrape(client) -> dict[str, float]:
    """{sample name: value} of the unlabelled samples the service's /metrics answers."""
    response = client.get("/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.content.decode())
    return {s.name: s.value for f in families for s in f.samples if not s.labels}
