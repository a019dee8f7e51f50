from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches

ROLE_USER = "user"
ROLE_ADMIN = "admin"
KNOWN_ROLES = (ROLE_USER, ROLE_ADMIN)  # also the order in X-Roles

REVOCATION_CACHE = "revocations"


def user_roles(*, user: AbstractBaseUser) -> list[str]:
    """The roles a token carries: everyone is a user, staff are also admins."""
    return [ROLE_USER, ROLE_ADMIN] if getattr(user, "is_staff", False) else [ROLE_USER]


def revocation_cache_key(jti: str) -> str:
    return f"access:{jti}"


def access_token_is_revoked(*, jti: str) -> bool:
    """From the shared cache only: verify's path never queries the database."""
    return caches[REVOCATION_CACHE].get(revocation_cache_key(jti)) is not None
