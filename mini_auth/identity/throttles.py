"""Login throttles: per client address and per attempted username.

Counters live in Django's default cache, shared by the worker processes. The
rates are read on each request (settings ``LOGIN_THROTTLE_RATE`` and
``LOGIN_USERNAME_THROTTLE_RATE``, DRF's ``"20/min"`` syntax).
"""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str:
    """The client's address as the gateway saw it.

    Every request here comes through nginx (or another service), whose own
    address is REMOTE_ADDR; nginx appends the client's address as the last
    X-Forwarded-For entry. Earlier entries are whatever the client sent.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    last_hop = forwarded.rsplit(",", 1)[-1].strip()
    return last_hop[:64] or request.META.get("REMOTE_ADDR", "") or "unknown"


class LoginAddressThrottle(SimpleRateThrottle):
    scope = "login_address"

    def get_rate(self) -> str:
        return settings.LOGIN_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
    """Slows down guessing one user's password from many addresses."""

    scope = "login_username"

    def get_rate(self) -> str:
        return settings.LOGIN_USERNAME_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to count; the input is refused as invalid anyway
        # Hashed: bounded key length whatever the client sends.
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
