"""Production settings: no default secrets, HTTPS options, Argon2id first."""

from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.exceptions import ImproperlyConfigured

from mini_common.settings import (
    production_secrets_problems,
    require_production_secrets,
    service_settings,
)

GOOD = {
    "DJANGO_SECRET_KEY": "k" * 25 + "Q9x-_" * 6,
    "MINI_INTERNAL_TOKEN": "t" * 40,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
}


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("MINI_ENV", "production")
    monkeypatch.setenv("MINI_VAR_DIR", str(tmp_path))
    for name in (*GOOD, "DJANGO_DEBUG", "DJANGO_SECURE_HSTS_SECONDS", "MINI_USER_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def build(**kwargs):
    return service_settings(
        service="mini_x", short_name="x", base_dir=Path("."), apps=[], title="x", **kwargs
    )


def test_production_names_every_missing_secret_at_once(production):
    with pytest.raises(ImproperlyConfigured) as error:
        build(extra_secrets=["JWT_SIGNING_KEY"])
    message = str(error.value)
    assert message.startswith("MINI_ENV=production refuses to start: ")
    for name in ("DJANGO_SECRET_KEY", "MINI_INTERNAL_TOKEN", "JWT_SIGNING_KEY"):
        assert f"{name} is not set" in message


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("MINI_INTERNAL_TOKEN", "dev-internal-token", "is a development default"),
        ("DJANGO_SECRET_KEY", "dev-insecure-" + "x" * 60, "is a development default"),
        ("MINI_INTERNAL_TOKEN", "short-token", "must be at least 32 characters"),
        ("DJANGO_SECRET_KEY", "x" * 49, "must be at least 50 characters"),
    ],
)
def test_production_refuses_weak_or_default_secrets(production, name, value, problem):
    for good, good_value in GOOD.items():
        production.setenv(good, good_value)
    production.setenv(name, value)
    assert production_secrets_problems([name]) == [f"{name} {problem}"]
    with pytest.raises(ImproperlyConfigured, match=problem):
        require_production_secrets([name])


def test_development_needs_no_secrets(monkeypatch):
    monkeypatch.setenv("MINI_ENV", "development")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    require_production_secrets(["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])


def test_production_settings_with_real_secrets(production):
    for name, value in GOOD.items():
        production.setenv(name, value)
    settings = build()
    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == GOOD["DJANGO_SECRET_KEY"]
    assert settings["MINI_COMMON"]["INTERNAL_TOKEN"] == GOOD["MINI_INTERNAL_TOKEN"]
    # The public host, and the internal one services call each other by.
    assert settings["ALLOWED_HOSTS"] == ["api.example.com", "127.0.0.1"]
    assert settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SECURE_HSTS_PRELOAD"] is False
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["SILENCED_SYSTEM_CHECKS"] == ["security.W008", "security.W021"]


def test_production_refuses_debug(production):
    for name, value in GOOD.items():
        production.setenv(name, value)
    production.setenv("DJANGO_DEBUG", "true")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be off"):
        build()


def test_https_options_come_from_the_environment(production):
    for name, value in GOOD.items():
        production.setenv(name, value)
    production.setenv("DJANGO_SECURE_HSTS_SECONDS", "600")
    production.setenv("DJANGO_SECURE_SSL_REDIRECT", "true")
    settings = build()
    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_SSL_REDIRECT"] is True


def test_development_has_no_hsts(monkeypatch):
    monkeypatch.setenv("MINI_ENV", "development")
    monkeypatch.delenv("DJANGO_SECURE_HSTS_SECONDS", raising=False)
    assert build()["SECURE_HSTS_SECONDS"] == 0


def test_passwords_are_hashed_with_argon2id_and_old_pbkdf2_hashes_still_verify(settings):
    settings.PASSWORD_HASHERS = build()["PASSWORD_HASHERS"]
    encoded = make_password("Corr3ct-Horse-Battery")
    assert encoded.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password("Corr3ct-Horse-Battery", encoded)
    assert not check_password("wrong", encoded)
    old = make_password("Corr3ct-Horse-Battery", hasher="pbkdf2_sha256")
    assert check_password("Corr3ct-Horse-Battery", old)
    assert identify_hasher(old).must_update(old) is False  # same iterations: no rehash needed


def test_idempotency_lease_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MINI_ENV", "development")
    monkeypatch.delenv("MINI_IDEMPOTENCY_LEASE", raising=False)
    assert build()["MINI_COMMON"]["IDEMPOTENCY_LEASE"] == 60.0
    monkeypatch.setenv("MINI_IDEMPOTENCY_LEASE", "7.5")
    assert build()["MINI_COMMON"]["IDEMPOTENCY_LEASE"] == 7.5
