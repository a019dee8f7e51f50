from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from identity.models import Registration, RevokedAccessToken, TokenFamily, UserTokenCutoff
from identity.tests.factories import RegistrationFactory, UserFactory
from identity.tokens import tokens_issue

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


# --- seed_users -----------------------------------------------------------------------


def test_seed_users_registers_through_the_flow_and_funds_each_account(fake_services):
    output = run("seed_users", "--users", "3", "--balance", "150.5")

    assert output.count("\n") == 0
    assert "3 registered" in output and "3 starting deposits" in output
    for name in ("user1", "user2", "user3"):
        user = User.objects.get(username=name)
        assert user.is_active and user.registration.status == Registration.Status.COMPLETE
        assert fake_services.profiles[name]["email"] == f"{name}@example.com"
        assert fake_services.deposits[name] == [(f"seed-{name}-initial-deposit", Decimal("150.50"))]


def test_seed_users_twice_does_not_double_the_money(fake_services):
    run("seed_users", "--users", "2", "--balance", "100", "--prefix", "shopper")
    output = run("seed_users", "--users", "2", "--balance", "100", "--prefix", "shopper")

    assert "0 registered, 2 already there" in output and "0 starting deposits" in output
    assert fake_services.balance("shopper1") == Decimal(100)
    assert User.objects.filter(username__startswith="shopper").count() == 2


def test_seed_users_funds_an_existing_user_whose_deposit_failed_before(fake_services):
    fake_services.fail("deposit")
    with pytest.raises(CommandError, match="user1: dependency_unavailable"):
        run("seed_users", "--users", "1", "--balance", "10")
    assert User.objects.get(username="user1").is_active

    fake_services.heal()
    output = run("seed_users", "--users", "1", "--balance", "10")

    assert "1 already there" in output and "1 starting deposits" in output
    assert fake_services.balance("user1") == Decimal(10)


def test_seed_users_finishes_a_pending_seed_registration(fake_services):
    fake_services.fail("account")
    with pytest.raises(CommandError):
        run("seed_users", "--users", "1")
    assert not User.objects.get(username="user1").is_active

    fake_services.heal()
    assert "1 registered" in run("seed_users", "--users", "1")
    assert User.objects.get(username="user1").is_active


def test_seed_users_leaves_someone_elses_user_alone(fake_services):
    RegistrationFactory(user__username="user1")
    with pytest.raises(CommandError, match="user1: username_taken"):
        run("seed_users", "--users", "2", "--balance", "5")
    assert fake_services.balance("user1") == 0
    assert fake_services.balance("user2") == Decimal(5)


def test_seed_users_demo(fake_services):
    output = run("seed_users", "--demo")

    assert "1 registered" in output
    demo = User.objects.get(username="demo")
    assert demo.check_password("demo-password-123")
    assert demo.registration.email == "demo@example.com"
    assert fake_services.balance("demo") == Decimal(1000)
    assert "0 starting deposits" in run("seed_users", "--demo")


@pytest.mark.parametrize("args", [["--balance", "-5"], ["--balance", "1.234"], ["--users", "-1"]])
def test_seed_users_refuses_bad_arguments(fake_services, args):
    with pytest.raises(CommandError):
        run("seed_users", "--users", "1", *args)
    assert not User.objects.exists()


# --- reconcile ------------------------------------------------------------------------


def test_reconcile_completes_every_pending_registration(fake_services):
    RegistrationFactory(pending=True, user__username="alice")
    RegistrationFactory(pending=True, user__username="bob", profile_created=True)
    RegistrationFactory(user__username="carol")

    output = run("reconcile")

    assert output == "reconcile: 2 pending registrations, 2 completed, 0 still pending"
    assert set(User.objects.filter(is_active=True).values_list("username", flat=True)) == {
        "alice",
        "bob",
        "carol",
    }
    assert fake_services.steps_for("bob") == ["account"]
    assert fake_services.steps_for("carol") == []
    assert run("reconcile") == "reconcile: 0 pending registrations, 0 completed, 0 still pending"


def test_reconcile_keeps_registrations_pending_while_a_dependency_is_down(fake_services):
    RegistrationFactory(pending=True, user__username="alice")
    fake_services.fail("account")

    output = run("reconcile")

    assert output.endswith("1 still pending: alice (dependency_unavailable)")
    registration = Registration.objects.get(username="alice")
    assert registration.status == Registration.Status.PENDING and registration.profile_created
    assert not registration.user.is_active

    fake_services.heal()
    run("reconcile")
    assert User.objects.get(username="alice").is_active


# --- purge_tokens ---------------------------------------------------------------------


def test_purge_tokens_deletes_what_expired_and_recaches_live_revocations():
    user = UserFactory()
    now = timezone.now()
    tokens_issue(user=user)  # live outstanding refresh token, in a live family
    OutstandingToken.objects.create(
        user=user, jti="old", token="x", created_at=now, expires_at=now - timedelta(seconds=1)
    )
    RevokedAccessToken.objects.create(jti="gone", username="u", expires_at=now - timedelta(1))
    RevokedAccessToken.objects.create(
        jti="live", username="u", expires_at=now + timedelta(minutes=5)
    )
    expired = now - timedelta(seconds=1)
    TokenFamily.objects.create(family="f-old", username="u", expires_at=expired)
    TokenFamily.objects.create(
        family="f-revoked-long-ago", username="u", expires_at=expired, revoked_at=now - timedelta(1)
    )
    TokenFamily.objects.create(  # its access tokens may still live: kept and re-cached
        family="f-just-revoked", username="u", expires_at=expired, revoked_at=now
    )
    UserTokenCutoff.objects.create(username="old", not_before=now - timedelta(days=2), reason="x")
    UserTokenCutoff.objects.create(username="new", not_before=now, reason="deleted")

    output = run("purge_tokens")

    assert output == (
        "purge_tokens: 1 expired revocations, 1 expired refresh tokens, 2 token families and "
        "1 user cut-offs deleted; 3 live revocation marks cached"
    )
    assert list(RevokedAccessToken.objects.values_list("jti", flat=True)) == ["live"]
    assert OutstandingToken.objects.count() == 1
    assert TokenFamily.objects.count() == 2
    assert list(UserTokenCutoff.objects.values_list("username", flat=True)) == ["new"]
    cache = caches["revocations"]
    assert cache.get("access:live") is True
    assert cache.get("family:f-just-revoked") is True
    assert cache.get("user:new") == pytest.approx(now.timestamp())
