"""Test helpers for services: API clients that speak as the gateway or a service.

Use from a service's ``conftest.py``::

    from mini_common.testing import *  # noqa: F403  (fixtures)
"""

import pytest
from django.conf import settings
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
