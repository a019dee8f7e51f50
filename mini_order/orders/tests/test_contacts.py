"""Contact data from mini_user: cached, with a stale copy for when mini_user is down."""

import pytest
from django.core.cache import cache

from mini_common.errors import DependencyUnavailable
from orders.contacts import contact_get
from orders.remote import Contact
from orders.tests.fakes import ALICE_CONTACT


def fetches(fake_remote) -> int:
    return len(fake_remote.called("profile_fetch"))


def expire_fresh_copy(username: str) -> None:
    cache.delete(f"orders:contact:{username}")


def test_profile_is_fetched_once_then_served_from_the_cache(fake_remote):
    assert contact_get(username="alice") == ALICE_CONTACT
    assert contact_get(username="alice") == ALICE_CONTACT
    assert fetches(fake_remote) == 1
    assert fake_remote.called("profile_fetch") == [{"username": "alice"}]


def test_cache_is_per_user(fake_remote):
    contact_get(username="alice")
    fake_remote.contact = Contact(email="bob@example.com")
    assert contact_get(username="bob") == Contact(email="bob@example.com")
    assert fetches(fake_remote) == 2


def test_expired_copy_is_fetched_again(fake_remote):
    contact_get(username="alice")
    expire_fresh_copy("alice")
    fake_remote.contact = Contact(email="new@example.com")
    assert contact_get(username="alice") == Contact(email="new@example.com")
    assert fetches(fake_remote) == 2


def test_fresh_ttl_comes_from_settings(fake_remote, settings):
    settings.PROFILE_CACHE_TTL = 0  # a zero timeout stores nothing fresh
    contact_get(username="alice")
    contact_get(username="alice")
    assert fetches(fake_remote) == 2


def test_stale_copy_is_used_when_mini_user_is_unavailable(fake_remote):
    contact_get(username="alice")
    expire_fresh_copy("alice")
    fake_remote.contact = DependencyUnavailable("user")
    assert contact_get(username="alice") == ALICE_CONTACT
    assert fetches(fake_remote) == 2


def test_unavailable_without_stale_copy_raises(fake_remote):
    fake_remote.contact = DependencyUnavailable("user")
    with pytest.raises(DependencyUnavailable):
        contact_get(username="alice")


def test_missing_profile_is_none_and_not_cached(fake_remote):
    fake_remote.contact = None
    assert contact_get(username="ghost") is None
    assert contact_get(username="ghost") is None
    assert fetches(fake_remote) == 2


def test_broken_cache_falls_back_to_mini_user(fake_remote, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    assert contact_get(username="alice") == ALICE_CONTACT
