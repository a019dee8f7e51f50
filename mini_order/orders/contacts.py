"""Users' contact data, read from mini_user through Django's cache.

A fresh copy is used for PROFILE_CACHE_TTL seconds; a stale copy lives
PROFILE_STALE_TTL seconds and stands in while mini_user is unavailable
(stale-if-error), so a mini_user outage does not hold notifications back.
The cache is an optimisation: when the cache itself fails, mini_user is asked.
"""

import logging
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.cache import cache

from mini_common.errors import DependencyUnavailable
from orders import remote
from orders.remote import Contact

logger = logging.getLogger("orders.contacts")


def _fresh_key(username: str) -> str:
    return f"orders:contact:{username}"


def _stale_key(username: str) -> str:
    return f"orders:contact-stale:{username}"


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the order
        logger.warning("cache read failed for %s", key, exc_info=True)
        return None


def _cache_set(key: str, value: Any, ttl: int) -> None:
    try:
        cache.set(key, value, ttl)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the order
        logger.warning("cache write failed for %s", key, exc_info=True)


def contact_get(*, username: str) -> Contact | None:
    """The user's contact data, or None when the user has no profile.

    Raises DependencyUnavailable when mini_user cannot answer and no stale copy exists.
    """
    cached = _cache_get(_fresh_key(username))
    if isinstance(cached, dict):
        return Contact(**cached)
    try:
        contact = remote.profile_fetch(username=username)
    except DependencyUnavailable:
        stale = _cache_get(_stale_key(username))
        if not isinstance(stale, dict):
            raise
        logger.info("mini_user unavailable: using the stale contact data of %s", username)
        return Contact(**stale)
    if contact is not None:
        _cache_set(_fresh_key(username), asdict(contact), settings.PROFILE_CACHE_TTL)
        _cache_set(_stale_key(username), asdict(contact), settings.PROFILE_STALE_TTL)
    return contact
