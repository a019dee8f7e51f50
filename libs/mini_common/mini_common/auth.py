"""DRF authentication and permissions that trust the gateway's identity headers.

The gateway (or a calling service) has already checked who the user is; a
service only believes ``X-Username`` / ``X-Roles`` / ``X-Service`` when the
request also carries the deployment's internal token.
"""

import hmac
import re
from dataclasses import dataclass, field

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from mini_common.context import set_username
from mini_common.errors import NotAuthenticated, PermissionDenied
from mini_common.middleware import internal_token_valid
from mini_common.settings import KNOWN_SERVICE_NAMES

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,150}$")
SERVICE_PATTERN = re.compile(r"^[a-z_]{1,40}$")


def known_services() -> tuple[str, ...]:
    """The X-Service names trusted as internal callers (MINI_COMMON["KNOWN_SERVICES"])."""
    configured = getattr(settings, "MINI_COMMON", {})
    return tuple(configured.get("KNOWN_SERVICES", KNOWN_SERVICE_NAMES))


def known_service(name: str) -> str:
    """``name`` if it is a known service, else "": compared in constant time.

    Every known name is compared, whatever matched, so the time taken says
    nothing about which name (or how much of one) the caller guessed.
    """
    supplied = name.encode()
    matched = ""
    for candidate in known_services():
        if hmac.compare_digest(supplied, candidate.encode()):
            matched = candidate
    return matched


@dataclass(frozen=True)
class GatewayUser:
    """The caller as the gateway or a trusted service described it."""

    username: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    service: str = ""  # set when another service makes the call

    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return bool(self.username or self.service)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_internal(self) -> bool:
        return bool(self.service)

    def __str__(self) -> str:
        return self.username or f"service:{self.service}"


class GatewayHeaderAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if not internal_token_valid(request):
            return None
        username = request.headers.get("X-Username", "").strip()
        service = request.headers.get("X-Service", "").strip()
        if username and not USERNAME_PATTERN.match(username):
            username = ""
        if service:
            # Unknown names are no service at all: internal endpoints refuse them.
            service = known_service(service) if SERVICE_PATTERN.match(service) else ""
        if not username and not service:
            return None
        roles = frozenset(
            role.strip().lower()
            for role in request.headers.get("X-Roles", "").split(",")
            if role.strip()
        )
        if username:
            set_username(username)
        return GatewayUser(username=username, roles=roles, service=service), None

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no identity was given.
        return "Bearer"


def _user(request) -> GatewayUser | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, GatewayUser) else None


class IsEndUser(BasePermission):
    """A request made on behalf of a user (through the gateway or a service)."""

    def has_permission(self, request, view) -> bool:
        user = _user(request)
        if user is None or not user.username:
            raise NotAuthenticated("A user identity is required")
        return True


class IsInternal(BasePermission):
    """Internal endpoints: only another service (a known X-Service) may call them.

    Requests without the internal token never get here (InternalTokenMiddleware:
    401); a trusted caller that names no known service is refused with 403.
    """

    def has_permission(self, request, view) -> bool:
        if not internal_token_valid(request):
            raise NotAuthenticated("Internal endpoint")
        user = _user(request)
        if user is None or not user.is_internal:
            raise PermissionDenied("This endpoint is for internal callers only")
        return True


class IsEndUserOrInternal(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = _user(request)
        if user is None or not (user.username or user.is_internal):
            raise NotAuthenticated("A user or service identity is required")
        return True


def can_see(user: GatewayUser, owner: str) -> bool:
    """Owners see their own objects, admins and internal callers see everyone's."""
    return user.is_admin or user.is_internal or user.username == owner
