"""What the cross-service tests share: a small HTTP client and user helpers.

Tests talk to the system the way a client does, over HTTP; requests is the
test's HTTP client here, not an inter-service call.
"""

import itertools
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

import manage_all
from tools.manage_all import postgres
from tools.manage_all.layout import venv_bin

PASSWORD = "Corr3ct-Horse-Battery"

# Generous limits: the suites drive many logins and registrations quickly.
RELAXED_LIMITS = {
    "GUNICORN_WORKERS": "2",
    "MINI_GATEWAY_AUTH_RATE": "1000r/s",
    "MINI_GATEWAY_AUTH_BURST": "1000",
    "LOGIN_THROTTLE_RATE": "10000/min",
    "LOGIN_USERNAME_THROTTLE_RATE": "10000/min",
}
# The benchmark's ping endpoints (off by default): for the suites that call them.
BENCH_ENDPOINTS = {"MINI_BENCH_ENDPOINTS": "1"}
_numbers = itertools.count(1)


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def as_user(self, token: str) -> "Api":
        return Api(self.base_url, token)


@dataclass
class User:
    username: str
    password: str
    api: Api  # authenticated client

    def balance(self):
        response = self.api.get("/billing/account/balance")
        assert response.status_code == 200, response.text
        return response.json()["balance"]

    def order(self, positions, key: str | None = None, **extra) -> requests.Response:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return self.api.post(
            "/api/v1/order", {"orderPositions": positions, **extra}, headers=headers
        )

    def notifications(self, **filters) -> list[dict]:
        response = self.api.get("/api/v1/notification", params=filters)
        assert response.status_code == 200, response.text
        return response.json()["results"]


def unique_username(prefix: str = "u") -> str:
    return f"{prefix}{os.getpid()}_{next(_numbers)}_{uuid.uuid4().hex[:6]}"


def registration_body(username: str, **extra) -> dict:
    return {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@example.com",
        "phone": "+1 555 0100",
        "firstName": "Test",
        "lastName": "User",
        **extra,
    }


def login(gateway: Api, username: str, password: str = PASSWORD) -> dict:
    response = gateway.post("/api/v1/auth/login", {"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def register_user(gateway: Api, *, balance=0, prefix: str = "u") -> User:
    username = unique_username(prefix)
    response = gateway.post("/api/v1/auth/register", registration_body(username))
    assert response.status_code == 201, response.text
    user = User(username, PASSWORD, gateway.as_user(login(gateway, username)["accessToken"]))
    if balance:
        deposit = user.api.post("/billing/account/operate", {"type": "DEPOSIT", "amount": balance})
        assert deposit.status_code == 200, deposit.text
    return user


def assert_problem(response: requests.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    if code:
        assert body["code"] == code, body
    return body


def run_database_urls(suite: str) -> dict[str, str] | None:
    """Databases of one test run on TEST_POSTGRES_URL (None: SQLite in the var dir).

    Named per process, so that concurrent runs on one server never share a database.
    """
    pg_url = os.environ.get("TEST_POSTGRES_URL")
    if not pg_url:
        return None
    prefix = f"{suite}_{os.getpid()}_"
    return manage_all.service_database_urls(pg_url, manage_all.SERVICES, prefix=prefix)


def drop_databases(database_urls: dict[str, str] | None) -> None:
    """Remove a run's databases once its system has stopped."""
    postgres.drop_databases(venv_bin("python"), database_urls)


@contextmanager
def running_system(
    var_dir: Path,
    suite: str,
    *,
    env: Mapping[str, str],
    services: Sequence[str] | None = None,
) -> Iterator[manage_all.System]:
    """A real system on free loopback ports with databases of its own, removed afterwards."""
    database_urls = run_database_urls(suite)
    if database_urls and services is not None:
        database_urls = {name: url for name, url in database_urls.items() if name in services}
    live = manage_all.System(
        var_dir,
        ports=manage_all.free_ports(),
        database_urls=database_urls,
        env=env,
        services=services,
    )
    live.start(fresh_databases=True)
    try:
        yield live
    finally:
        live.stop()
        drop_databases(database_urls)
