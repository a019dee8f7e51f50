"""JWTs: issuing, rotating and revoking them, and verifying access tokens.

Tokens are simplejwt's: HS256 only (the algorithm list pinned), with our
issuer and audience, short-lived access tokens. They carry what the gateway
needs, ``username`` and ``roles``, so that ``access_token_verify`` answers from
the token and the revocation cache alone, without the database.

Every token also carries ``fam``, the id of its login session (TokenFamily).
Refresh tokens are single use and rotate within their family; presenting one
a second time is taken as theft (OAuth 2.0 Security BCP, refresh token
rotation): the whole family is revoked, the legitimate client's tokens with
the attacker's.
"""

import logging
import re
import uuid
from dataclasses import dataclass

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

from identity.errors import InvalidCredentials, InvalidToken
from identity.models import TokenFamily, TokenFamilyMember
from identity.revocation import (
    TokenClaims,
    access_token_revoke,
    family_revoke,
    token_is_revoked,
    user_cutoff_voids,
)
from identity.selectors import KNOWN_ROLES, user_roles
from mini_common.auth import USERNAME_PATTERN

logger = logging.getLogger("identity.tokens")

User = get_user_model()

ROLES_CLAIM = "roles"
FAMILY_CLAIM = "fam"
FAMILY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class CheckedExpiry:
    """simplejwt's ``exp`` check, refusing what it cannot compare.

    PyJWT accepts any ``exp`` that ``int()`` takes (``1e30``, ``"9999999999"``);
    simplejwt then turns it into a datetime, which raises OverflowError,
    ValueError or TypeError: verify answered 500 and the gateway 503 for a
    token that is simply invalid. Here such a claim is a TokenError (401).
    """

    payload: dict

    def check_exp(self, claim: str = "exp", current_time=None) -> None:
        value = self.payload.get(claim, 0)  # a missing claim: simplejwt's own error
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenError(f"Token '{claim}' claim is not a number")
        try:
            super().check_exp(claim, current_time)
        except (OverflowError, OSError, ValueError) as exc:
            raise TokenError(f"Token '{claim}' claim is out of range") from exc


class CheckedAccessToken(CheckedExpiry, AccessToken):
    pass


class RotatingRefreshToken(CheckedExpiry, RefreshToken):
    """simplejwt's refresh token without its own blacklist check.

    A used (blacklisted) token must be recognised as reuse and revoke its
    family, not merely be refused: ``tokens_refresh`` and ``tokens_logout``
    look at the blacklist themselves.
    """

    def check_blacklist(self) -> None:
        return None


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


# --- issuing ---------------------------------------------------------------------------


def tokens_issue(*, user: AbstractBaseUser, family: TokenFamily | None = None) -> TokenPair:
    """A new refresh token (recorded as outstanding, in ``family`` or a new one) and its
    access token, which copies its username, roles and family claims."""
    refresh = RotatingRefreshToken()
    username = getattr(user, api_settings.USER_ID_FIELD)
    refresh[api_settings.USER_ID_CLAIM] = username
    refresh[ROLES_CLAIM] = user_roles(user=user)
    expires_at = datetime_from_epoch(refresh["exp"])
    with transaction.atomic():
        if family is None:
            family = TokenFamily.objects.create(
                family=uuid.uuid4().hex, username=username, expires_at=expires_at
            )
        else:
            TokenFamily.objects.filter(pk=family.pk).update(expires_at=expires_at)
        refresh[FAMILY_CLAIM] = family.family
        raw = str(refresh)
        outstanding = OutstandingToken.objects.create(
            user=user,
            jti=refresh[api_settings.JTI_CLAIM],
            token=raw,
            created_at=refresh.current_time,
            expires_at=expires_at,
        )
        TokenFamilyMember.objects.create(token=outstanding, family=family)
    return TokenPair(
        access=str(refresh.access_token), refresh=raw, expires_in=access_lifetime_seconds()
    )


def tokens_login(*, username: str, password: str) -> TokenPair:
    """Tokens for valid credentials of an active user (inactive = registration unfinished)."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise InvalidCredentials()
    return tokens_issue(user=user)


# --- rotating and revoking ---------------------------------------------------------------


def tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is blacklisted and a new pair of its family issued.

    A token that was already used revokes its whole family (reuse detection).
    The family row is locked, so concurrent refreshes of one session are
    serialised: of two with the same token, one rotates and the other is reuse.
    """
    refresh = _valid_refresh_token(refresh_token)
    with transaction.atomic():
        outcome = _rotate(refresh)
    if isinstance(outcome, InvalidToken):
        raise outcome  # after the commit: a reuse revocation must stick
    return outcome


def _rotate(refresh: RotatingRefreshToken) -> TokenPair | InvalidToken:
    username = refresh[api_settings.USER_ID_CLAIM]
    found = _issued_token(refresh)
    if found is None:
        return InvalidToken("This refresh token was not issued here or has been purged")
    family, outstanding = found
    if family.revoked_at is not None:
        return InvalidToken("This session has been revoked")
    _, first_use = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not first_use:
        blacklisted = family_revoke(family=family, reason=TokenFamily.Reason.REUSE)
        logger.warning(
            "refresh token reuse for %s: session %s revoked",
            username,
            family.family,
            extra={"family": family.family, "blacklisted": blacklisted},
        )
        return InvalidToken("This refresh token has already been used; its session is revoked")
    user = User.objects.filter(**{api_settings.USER_ID_FIELD: username, "is_active": True}).first()
    if user is None or user_cutoff_voids(username=username, issued_at=refresh["iat"]):
        return InvalidToken("The user of this token does not exist, is not active, or was reset")
    return tokens_issue(user=user, family=family)


def tokens_logout(*, username: str, refresh_token: str, access_token: str) -> None:
    """End the caller's session: revoke the family of their refresh token (every refresh
    and access token of it) and the access token they presented.

    Nothing changes unless both tokens are valid and belong to ``username``.
    An access token that has just expired needs no revocation. A refresh token
    that was used already is reuse: the family is revoked and the answer is 401.
    """
    refresh = _valid_refresh_token(refresh_token)
    if refresh[api_settings.USER_ID_CLAIM] != username:
        raise InvalidToken("The refresh token belongs to another user")
    access = _access_token_unless_expired(access_token)
    if access is not None and access.get(api_settings.USER_ID_CLAIM) != username:
        raise InvalidToken("The access token belongs to another user")
    with transaction.atomic():
        found = _issued_token(refresh)
        if found is None:
            raise InvalidToken("This refresh token was not issued here or has been purged")
        family, outstanding = found
        reused = (
            family.revoked_at is not None
            or BlacklistedToken.objects.filter(token=outstanding).exists()
        )
        family_revoke(
            family=family,
            reason=TokenFamily.Reason.REUSE if reused else TokenFamily.Reason.LOGOUT,
        )
        if access is not None and isinstance(access.get(api_settings.JTI_CLAIM), str):
            access_token_revoke(
                jti=access[api_settings.JTI_CLAIM],
                username=username,
                expires_at=datetime_from_epoch(access["exp"]),
            )
    if reused:
        raise InvalidToken("This refresh token has already been used or revoked")


def _issued_token(refresh: Token) -> tuple[TokenFamily, OutstandingToken] | None:
    """The (locked) family and the outstanding record of a refresh token we issued."""
    family = (
        TokenFamily.objects.select_for_update()
        .filter(family=refresh[FAMILY_CLAIM], username=refresh[api_settings.USER_ID_CLAIM])
        .first()
    )
    if family is None:
        return None
    outstanding = OutstandingToken.objects.filter(
        jti=refresh[api_settings.JTI_CLAIM], family_member__family=family
    ).first()
    return None if outstanding is None else (family, outstanding)


# --- verifying (nginx's auth_request: no database) -----------------------------------------


def access_token_verify(*, token: str) -> TokenIdentity:
    """The identity in a valid, unexpired, unrevoked access token; InvalidToken otherwise.

    simplejwt checks the signature with our key and the pinned algorithm only
    (so ``alg: none``, foreign keys and other algorithms fail), issuer,
    audience, ``exp``, ``jti`` and that the type is ``access`` (a refresh token
    is refused). The revocation marks come from the cache: no database query.
    """
    try:
        access = CheckedAccessToken(token)
    except TokenError as exc:
        raise InvalidToken() from exc
    claims = _common_claims(access)
    roles = access.get(ROLES_CLAIM)
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(role, str) and role in KNOWN_ROLES for role in roles)
    ):
        raise InvalidToken("The token has no valid roles")
    if token_is_revoked(claims):
        raise InvalidToken("The token has been revoked")
    return TokenIdentity(
        username=claims.username, roles=tuple(r for r in KNOWN_ROLES if r in roles)
    )


def _common_claims(token: Token) -> TokenClaims:
    """The claims every token of ours has, checked for shape; InvalidToken if one is off."""
    username = token.get(api_settings.USER_ID_CLAIM)
    jti = token.get(api_settings.JTI_CLAIM)
    family = token.get(FAMILY_CLAIM)
    issued_at = token.get("iat")
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise InvalidToken("The token has no valid username")
    if not isinstance(jti, str) or not 0 < len(jti) <= 64:
        raise InvalidToken("The token has no valid id")
    if not isinstance(family, str) or not FAMILY_PATTERN.fullmatch(family):
        raise InvalidToken("The token has no valid session")
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise InvalidToken("The token has no valid issue time")
    try:
        issued = float(issued_at)
    except OverflowError as exc:  # an integer past a float's range, e.g. -10**400
        raise InvalidToken("The token has no valid issue time") from exc
    return TokenClaims(jti=jti, family=family, username=username, issued_at=issued)


def _valid_refresh_token(raw: str) -> RotatingRefreshToken:
    try:
        refresh = RotatingRefreshToken(raw)  # signature, iss, aud, exp, type "refresh"
    except TokenError as exc:
        raise InvalidToken() from exc
    _common_claims(refresh)
    return refresh


def _access_token_unless_expired(raw: str) -> AccessToken | None:
    try:
        access = CheckedAccessToken(raw)
    except ExpiredTokenError:
        return None
    except TokenError as exc:
        raise InvalidToken("The access token is invalid") from exc
    _common_claims(access)
    return access
