"""The revocation list ``verify`` consults: revoked access tokens, families and users.

Three kinds of marks, each kept in the database (the record of truth, so
that ``purge_tokens`` can re-fill a cache that lost entries) and in the
``revocations`` cache (what ``verify`` reads: one ``get_many``, no query):

- ``access:<jti>``: one access token, revoked by logout;
- ``family:<fam>``: every token of a login session (reuse of a refresh
  token, or logout);
- ``user:<username>``: a per-user "not valid before" time (deactivation,
  deletion, loss of the admin role): tokens issued earlier are void. ``iat``
  has whole seconds, so tokens issued in the mark's own second are void too.

A cache entry lives as long as the tokens it concerns can: an access token's
remaining lifetime, or one access lifetime from the moment of a family or
user mark (every access token issued before it has expired by then).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from identity.models import RevokedAccessToken, TokenFamily, UserTokenCutoff

REVOCATION_CACHE = "revocations"


def access_key(jti: str) -> str:
    return f"access:{jti}"


def family_key(family: str) -> str:
    return f"family:{family}"


def user_key(username: str) -> str:
    return f"user:{username}"


def access_lifetime() -> timedelta:
    return api_settings.ACCESS_TOKEN_LIFETIME


# --- reads (verify's hot path: the cache only) --------------------------------------------


@dataclass(frozen=True)
class TokenClaims:
    jti: str
    family: str
    username: str
    issued_at: float  # the iat claim, seconds since the epoch


def token_is_revoked(claims: TokenClaims) -> bool:
    """Whether an access token is revoked, from one cache round trip; no database query."""
    keys = [access_key(claims.jti), family_key(claims.family), user_key(claims.username)]
    found = caches[REVOCATION_CACHE].get_many(keys)
    if keys[0] in found or keys[1] in found:
        return True
    not_before = found.get(keys[2])
    return not_before is not None and claims.issued_at < float(not_before)


# --- writes ------------------------------------------------------------------------------


def _cache_for(key: str, value: object, until: datetime) -> None:
    remaining = math.ceil((until - timezone.now()).total_seconds())
    if remaining > 0:
        caches[REVOCATION_CACHE].set(key, value, timeout=remaining + 1)


def access_token_revoke(*, jti: str, username: str, expires_at: datetime) -> None:
    """Revoke one access token until it expires (logout)."""
    RevokedAccessToken.objects.get_or_create(
        jti=jti, defaults={"username": username, "expires_at": expires_at}
    )
    transaction.on_commit(lambda: _cache_for(access_key(jti), True, expires_at))


def family_revoke(*, family: TokenFamily, reason: str) -> int:
    """Revoke a whole login session: blacklist its outstanding refresh tokens and
    refuse its access tokens. Returns how many refresh tokens were blacklisted.

    Call inside a transaction; the cache is written once it commits.
    """
    now = timezone.now()
    if family.revoked_at is None:
        TokenFamily.objects.filter(pk=family.pk).update(revoked_at=now, revoked_reason=reason)
        family.revoked_at, family.revoked_reason = now, reason
    live = OutstandingToken.objects.filter(
        family_member__family=family, blacklistedtoken__isnull=True
    )
    blacklisted = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    until = family.revoked_at + access_lifetime()
    transaction.on_commit(lambda: _cache_for(family_key(family.family), True, until))
    return len(blacklisted)


def user_tokens_cutoff(*, username: str, reason: str) -> datetime:
    """Void every token of ``username`` issued until now (deactivation, deletion, demotion)."""
    now = timezone.now()
    UserTokenCutoff.objects.update_or_create(
        username=username, defaults={"not_before": now, "reason": reason}
    )
    until = now + access_lifetime()
    transaction.on_commit(lambda: _cache_for(user_key(username), now.timestamp(), until))
    return now


def user_cutoff_voids(*, username: str, issued_at: float) -> bool:
    """From the database (refresh, logout): whether a token issued then is void by a cutoff."""
    cutoff = UserTokenCutoff.objects.filter(username=username).values_list("not_before", flat=True)
    not_before = cutoff.first()
    return not_before is not None and issued_at < not_before.timestamp()


# --- maintenance (purge_tokens) ----------------------------------------------------------


@dataclass(frozen=True)
class PurgeSummary:
    access: int
    families: int
    cutoffs: int


def revocations_purge() -> PurgeSummary:
    """Delete the marks that can no longer concern any token."""
    now = timezone.now()
    access, _ = RevokedAccessToken.objects.filter(expires_at__lte=now).delete()
    # A family's tokens are all expired once its newest refresh token is, and
    # its access tokens one access lifetime after its revocation at the latest.
    _, families = (
        TokenFamily.objects.filter(expires_at__lte=now)
        .exclude(revoked_at__gt=now - access_lifetime())
        .delete()
    )
    oldest_live = now - max(api_settings.REFRESH_TOKEN_LIFETIME, access_lifetime())
    cutoffs, _ = UserTokenCutoff.objects.filter(not_before__lte=oldest_live).delete()
    return PurgeSummary(
        access=access, families=families.get(TokenFamily._meta.label, 0), cutoffs=cutoffs
    )


def revocations_rewarm() -> int:
    """Copy every mark that still matters back into the cache (after a cache loss)."""
    now = timezone.now()
    count = 0
    for jti, expires_at in RevokedAccessToken.objects.filter(expires_at__gt=now).values_list(
        "jti", "expires_at"
    ):
        _cache_for(access_key(jti), True, expires_at)
        count += 1
    recent = now - access_lifetime()
    for family, revoked_at in TokenFamily.objects.filter(revoked_at__gt=recent).values_list(
        "family", "revoked_at"
    ):
        _cache_for(family_key(family), True, revoked_at + access_lifetime())
        count += 1
    for username, not_before in UserTokenCutoff.objects.filter(not_before__gt=recent).values_list(
        "username", "not_before"
    ):
        _cache_for(user_key(username), not_before.timestamp(), not_before + access_lifetime())
        count += 1
    return count
