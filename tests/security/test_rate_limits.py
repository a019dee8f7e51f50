"""Throttling with a deployment's default limits (strict_system: mini_auth behind the gateway).

- The gateway: register, login and refresh share a per-address budget
  (MINI_GATEWAY_AUTH_RATE 10r/s, burst 20); beyond it a 429 problem+json.
- mini_auth itself, whatever is in front of it: logins per address and per
  username (LOGIN_THROTTLE_RATE / LOGIN_USERNAME_THROTTLE_RATE, 20/min).
"""

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

GATEWAY_THROTTLE_DETAIL = "Request rate exceeded; retry later."
ROUTES = ["/api/v1/auth/register", "/api/v1/auth/refresh", "/api/v1/auth/login"]


def post_from(base_url: str, path: str, *, source: str = "127.0.0.1", headers=None):
    """POST {} from a given loopback source address: (status, headers, body)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=15, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            path,
            body=b"{}",
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def flood(base_url: str, path: str, count: int = 60, **kwargs) -> list:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: post_from(base_url, path, **kwargs), range(count)))


def gateway_429s(answers) -> list:
    return [
        (headers, json.loads(body))
        for status, headers, body in answers
        if status == 429 and json.loads(body).get("detail") == GATEWAY_THROTTLE_DETAIL
    ]


@pytest.fixture
def drained_buckets():
    """The gateway's budget of this address is full again (the last flood drained at 10 r/s)."""
    time.sleep(2.5)


@pytest.mark.usefixtures("drained_buckets")
@pytest.mark.parametrize("path", ROUTES)
def test_the_gateway_throttles_each_public_auth_route_per_address(strict_system, path):
    answers = flood(strict_system.gateway_url, path)
    throttled = gateway_429s(answers)
    assert throttled, [status for status, _, _ in answers]
    headers, body = throttled[0]
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == 429 and body["code"] == "throttled"
    assert int(headers["Retry-After"]) >= 1
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.usefixtures("drained_buckets")
def test_another_address_has_its_own_budget(strict_system):
    """Right after one address used up its budget, another's full burst still passes:
    had they shared one budget, the second burst would meet 429s."""
    assert gateway_429s(flood(strict_system.gateway_url, ROUTES[0]))
    second = flood(strict_system.gateway_url, ROUTES[0], count=15, source="127.0.0.2")
    assert [status for status, _, _ in second] == [400] * 15


@pytest.mark.usefixtures("drained_buckets")
def test_a_forged_forwarded_for_does_not_escape_the_gateways_limit(strict_system):
    answers = []
    for n in range(6):
        answers += flood(
            strict_system.gateway_url,
            ROUTES[1],
            count=10,
            headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"},
        )
    assert gateway_429s(answers)


# --- mini_auth's own throttle, straight at its port ---------------------------------------


def login_directly(system, username: str, address: str) -> requests.Response:
    """What nginx forwards: the internal token and the client's address last in XFF."""
    token = system.environment("auth")["MINI_INTERNAL_TOKEN"]
    return requests.post(
        f"{system.url('auth')}/api/v1/auth/login",
        json={"username": username, "password": "Wrong-password-123"},
        headers={"X-Internal-Token": token, "X-Forwarded-For": f"6.6.6.6, {address}"},
        timeout=15,
    )


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


def test_mini_auth_throttles_logins_per_address(strict_system):
    statuses = [
        login_directly(strict_system, f"someone{n}", "203.0.113.10").status_code for n in range(20)
    ]
    assert statuses == [401] * 20
    assert_throttled(login_directly(strict_system, "someone-else", "203.0.113.10"))
    assert login_directly(strict_system, "someone-else", "203.0.113.11").status_code == 401


def test_mini_auth_throttles_logins_per_username_across_addresses(strict_system):
    statuses = [
        login_directly(strict_system, "victim", f"192.0.2.{n}").status_code for n in range(20)
    ]
    assert statuses == [401] * 20
    assert_throttled(login_directly(strict_system, "Victim", "192.0.2.200"))
    assert login_directly(strict_system, "not-the-victim", "192.0.2.201").status_code == 401
