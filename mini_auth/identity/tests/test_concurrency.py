"""Races settled by the database: they need real concurrent transactions (PostgreSQL)."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from identity.models import Registration
from identity.tests.factories import UserFactory
from identity.tokens import tokens_issue
from mini_common.testing import gateway_client, run_in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent transactions need PostgreSQL (SQLite serialises all writers)",
    ),
]

THREADS = 8


def test_a_refresh_token_is_rotated_only_once_under_concurrency():
    tokens = tokens_issue(user=UserFactory(username="alice"))

    def refresh(client: APIClient, token: str) -> int:
        return client.post(
            "/api/v1/auth/refresh", {"refreshToken": token}, format="json"
        ).status_code

    statuses = run_in_threads(lambda _: refresh(gateway_client(), tokens.refresh), THREADS)

    assert sorted(statuses) == [200] + [401] * (THREADS - 1)


def test_one_username_is_registered_once_under_concurrency(fake_services):
    def register(client: APIClient, n: int) -> int:
        body = {
            "username": "alice" if n % 2 else "Alice",
            "password": f"Wonder-land-{n:02d}",
            "email": "alice@example.com",
        }
        return client.post("/api/v1/auth/register", body, format="json").status_code

    statuses = run_in_threads(lambda n: register(gateway_client(), n), THREADS)

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert Registration.objects.count() == 1
    assert Registration.objects.get().user.is_active
