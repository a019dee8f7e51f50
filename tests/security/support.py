"""Helpers of the security suite: calls around the gateway, and small assertions."""

import http.client
import time
from urllib.parse import urlsplit

import requests

from tests.support import Api, User, login

SERVICE_PATHS = {
    "auth": "/api/v1/auth/login",
    "user": "/api/v1/user/nobody",
    "billing": "/billing/account/balance",
    "order": "/api/v1/order",
    "notif": "/api/v1/notification",
}
# Internal endpoints (API.md: "internal"), with a body each accepts.
INTERNAL_ENDPOINTS = [
    ("user", "/api/v1/user", {"username": "internal_probe", "email": "p@example.com"}),
    ("billing", "/billing/account/new", {"username": "internal_probe"}),
    ("billing", "/billing/payment/void", {"orderId": 1}),
    (
        "notif",
        "/api/v1/notification",
        {
            "notificationType": "INFO",
            "parentType": "USER",
            "username": "internal_probe",
            "text": "probe",
            "contact": {"email": "p@example.com"},
        },
    ),
]


class Direct:
    """Requests to a service's own port, as an attacker inside the network would send them."""

    def __init__(self, system) -> None:
        self.system = system
        self.internal_token = system.environment("auth")["MINI_INTERNAL_TOKEN"]

    def url(self, service: str, path: str) -> str:
        return self.system.url(service) + path

    def request(self, method: str, service: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return requests.request(method, self.url(service, path), **kwargs)

    def trusted(self, **headers: str) -> dict[str, str]:
        """Headers of a caller that holds the internal token."""
        return {"X-Internal-Token": self.internal_token, **headers}


def raw_request(base_url: str, method: str, path: str, headers: list[tuple[str, str]], body=b""):
    """A request with exactly these header lines (requests would merge or normalise them)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        own_host = any(name.lower() == "host" for name, _ in headers)
        connection.putrequest(method, path, skip_host=own_host, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def fresh_tokens(gateway: Api, user: User) -> dict:
    """A new login session of ``user``: {accessToken, refreshToken, ...}."""
    return login(gateway, user.username, user.password)


def wait_until_refused(api: Api, path: str, *, within: float) -> float:
    """Poll ``path`` until it answers 401; the seconds it took. Fails after ``within``."""
    started = time.monotonic()
    while True:
        status = api.get(path).status_code
        if status == 401:
            return time.monotonic() - started
        assert status == 200, status
        assert time.monotonic() - started < within, f"still {status} after {within}s"
        time.sleep(0.1)
