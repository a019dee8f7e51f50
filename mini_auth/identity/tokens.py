"""JWTs: issuing, rotating and revoking them, and verifying access tokens.

Tokens are simplejwt's (HS256, algorithm pinned). They carry the claims the
gateway needs, ``username`` and ``roles``, so that ``access_token_verify``
answers from the token and the revocation cache alone, without the database.
Refresh tokens are single use: each refresh blacklists the one presented.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from identity.errors import InvalidCredentials, InvalidToken
from identity.models import RevokedAccessToken
from identity.selectors import (
    KNOWN_ROLES,
    REVOCATION_CACHE,
    access_token_is_revoked,
    revocation_cache_key,
    user_roles,
)
from mini_common.auth import USERNAME_PATTERN

User = get_user_model()

ROLES_CLAIM = "roles"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int  # seconds the access token lives


@dataclass(frozen=True)
class TokenIdentity:
    username: str
    roles: tuple[str, ...]


def access_lifetime_seconds() -> int:
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def tokens_issue(*, user: AbstractBaseUser) -> TokenPair:
    """A new refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken.for_user(user)  # sets the username claim (USER_ID_CLAIM)
    refresh[ROLES_CLAIM] = user_roles(user=user)
    return TokenPair(
        access=str(refresh.access_token),  # copies username and roles
        refresh=str(refresh),
        expires_in=access_lifetime_seconds(),
    )


def tokens_login(*, username: str, password: str) -> TokenPair:
    """Tokens for valid credentials of an active user (inactive = registration unfinished)."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise InvalidCredentials()
    return tokens_issue(user=user)


def tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is blacklisted and a new pair issued.

    The blacklist insert settles races: of two refreshes with the same token,
    only the one that creates the blacklist row gets new tokens.
    """
    refresh = _valid_refresh_token(refresh_token)
    user = User.objects.filter(username=refresh[api_settings.USER_ID_CLAIM], is_active=True).first()
    if user is None:
        raise InvalidToken("The user of this token does not exist or is not active")
    with transaction.atomic():
        _, created = refresh.blacklist()
        if not created:
            raise InvalidToken("This refresh token has already been used")
        return tokens_issue(user=user)


def tokens_logout(*, username: str, refresh_token: str, access_token: str) -> None:
    """Blacklist the caller's refresh token and revoke the access token they presented.

    Nothing changes unless both tokens are valid and belong to ``username``.
    An access token that has just expired needs no revocation.
    """
    refresh = _valid_refresh_token(refresh_token)
    if refresh[api_settings.USER_ID_CLAIM] != username:
        raise InvalidToken("The refresh token belongs to another user")
    access = _access_token_unless_expired(access_token)
    if access is not None and access.get(api_settings.USER_ID_CLAIM) != username:
        raise InvalidToken("The access token belongs to another user")
    with transaction.atomic():
        refresh.blacklist()
        if access is not None:
            revoked, _ = RevokedAccessToken.objects.get_or_create(
                jti=access[api_settings.JTI_CLAIM],
                defaults={"username": username, "expires_at": datetime_from_epoch(access["exp"])},
            )
    if access is not None:
        revocation_cache(jti=revoked.jti, expires_at=revoked.expires_at)


def access_token_verify(*, token: str) -> TokenIdentity:
    """The identity in a valid, unexpired, unrevoked access token; InvalidToken otherwise.

    simplejwt checks the signature with our key and the pinned algorithm only
    (so ``alg: none`` and foreign keys fail), ``exp``, ``jti`` and that the
    type is ``access`` (a refresh token is refused). No database query here.
    """
    try:
        access = AccessToken(token)
    except TokenError as exc:
        raise InvalidToken() from exc
    username = access.get(api_settings.USER_ID_CLAIM)
    roles = access.get(ROLES_CLAIM)
    jti = access.get(api_settings.JTI_CLAIM)
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise InvalidToken("The token has no valid username")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(role, str) and role in KNOWN_ROLES for role in roles)
    ):
        raise InvalidToken("The token has no valid roles")
    if not isinstance(jti, str) or access_token_is_revoked(jti=jti):
        raise InvalidToken("The token has been revoked")
    return TokenIdentity(username=username, roles=tuple(r for r in KNOWN_ROLES if r in roles))


def revocation_cache(*, jti: str, expires_at: datetime) -> None:
    """Put a revocation where verify looks, for as long as the token would live."""
    remaining = math.ceil((expires_at - timezone.now()).total_seconds())
    if remaining > 0:
        caches[REVOCATION_CACHE].set(revocation_cache_key(jti), True, timeout=remaining + 1)


def revocations_rewarm() -> int:
    """Copy the unexpired revocations back into the cache (after a cache loss or eviction)."""
    live = RevokedAccessToken.objects.filter(expires_at__gt=timezone.now())
    count = 0
    for jti, expires_at in live.values_list("jti", "expires_at").iterator():
        revocation_cache(jti=jti, expires_at=expires_at)
        count += 1
    return count


def revoked_access_tokens_purge() -> int:
    """Delete revocations of tokens that have expired anyway."""
    deleted, _ = RevokedAccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _valid_refresh_token(raw: str) -> RefreshToken:
    try:
        refresh = RefreshToken(raw)  # signature, exp, type "refresh", not blacklisted
    except TokenError as exc:
        raise InvalidToken() from exc
    if not isinstance(refresh.get(api_settings.USER_ID_CLAIM), str):
        raise InvalidToken("The token has no valid username")
    return refresh


def _access_token_unless_expired(raw: str) -> AccessToken | None:
    try:
        return AccessToken(raw)
    except ExpiredTokenError:
        return None
    except TokenError as exc:
        raise InvalidToken("The access token is invalid") from exc
