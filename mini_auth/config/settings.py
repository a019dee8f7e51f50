"""mini_auth settings: the shared ones from mini_common plus users, JWT and caches."""

import re
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mini_common.settings import (
    DEV_SECRET_PREFIX,
    env,
    is_production,
    secret,
    service_settings,
    var_dir,
)

globals().update(
    service_settings(
        service="mini_auth",
        short_name="auth",
        base_dir=Path(__file__).resolve().parent.parent,
        apps=["rest_framework_simplejwt.token_blacklist", "identity"],
        title="mini_auth: users and JWT",
        extra_secrets=["JWT_SIGNING_KEY"],
    )
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: the hook that ends a user's sessions when their password changes.
    {"NAME": "identity.passwords.SessionsEndWithPasswordChange"},
]


def _positive_seconds(name: str, default: int, *, maximum: int | None = None) -> timedelta:
    seconds = env.int(name, default=default)
    if seconds <= 0:
        raise ImproperlyConfigured(f"{name} must be positive (seconds)")
    if maximum is not None and seconds > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum} seconds")
    return timedelta(seconds=seconds)


def _rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "20/min", checked now rather than on the first login."""
    rate = env.str(name, default=default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name} must look like 20/min (got {rate!r})")
    return rate


JWT_SIGNING_KEY = secret(
    "JWT_SIGNING_KEY", f"{DEV_SECRET_PREFIX}mini-auth-jwt-signing-key-0123456789"
)
if is_production() and len(JWT_SIGNING_KEY) < 32:
    # HS256 is only as strong as its key; PyJWT itself warns below 32 bytes.
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be at least 32 characters")
if "-----BEGIN" in JWT_SIGNING_KEY:
    # A PEM key here means someone mixed up HS256 and RS256: an HMAC secret
    # that is a public key is no secret (the classic algorithm-confusion attack).
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be a random secret, not a PEM key")

SIMPLE_JWT = {
    "ALGORITHM": "HS256",  # pinned: decoding accepts this algorithm only
    "SIGNING_KEY": JWT_SIGNING_KEY,
    # Checked on every decode: a token of another system that shares the key
    # by accident (another deployment, a test) is still not ours.
    "ISSUER": "mini_auth",
    "AUDIENCE": "mini",
    # Short: an access token outlives logout or deactivation only through
    # the revocation cache (and the gateway's few seconds of auth cache).
    "ACCESS_TOKEN_LIFETIME": _positive_seconds("JWT_ACCESS_TTL", 300, maximum=3600),
    "REFRESH_TOKEN_LIFETIME": _positive_seconds("JWT_REFRESH_TTL", 86400),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # The username is the identity every service shares; carrying it in the
    # "username" claim lets verify answer from the token alone, without the database.
    "USER_ID_FIELD": "username",
    "USER_ID_CLAIM": "username",
    "LEEWAY": 0,
}

# Login attempts per client address and per username (DRF rate syntax).
LOGIN_THROTTLE_RATE = _rate("LOGIN_THROTTLE_RATE", "20/min")
LOGIN_USERNAME_THROTTLE_RATE = _rate("LOGIN_USERNAME_THROTTLE_RATE", "20/min")


def _shared_caches() -> dict:
    """Throttle counters and the access-token revocation list, seen by every worker process.

    Revocations get their own cache so that a flood of throttle entries can
    never evict (cull) them. Without Redis both live in files under var/.
    """
    if env.str("REDIS_URL", default=""):
        default = CACHES["default"]
        return {"default": default, "revocations": {**default, "KEY_PREFIX": "mini:auth:revoked"}}
    root = var_dir() / "cache" / "auth"
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(root / "default"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
        "revocations": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(root / "revocations"),
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
    }


CACHES = _shared_caches()
