import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

import config.settings as service_settings
from identity.tests.factories import PASSWORD, UserFactory
from mini_common.settings import var_dir

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="REDIS_URL set: Redis caches")
def test_without_redis_the_caches_are_files_shared_by_all_worker_processes():
    caches = service_settings.CACHES
    for alias in ("default", "revocations"):
        assert caches[alias]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
        assert Path(caches[alias]["LOCATION"]).is_relative_to(var_dir() / "cache" / "auth")
    assert caches["default"]["LOCATION"] != caches["revocations"]["LOCATION"]


@pytest.mark.django_db
def test_a_login_issues_hs256_tokens_for_mini_that_live_5_minutes_and_a_day(make_user_client):
    # (Rotation and the reuse of a rotated refresh token: test_tokens.py.)
    user = UserFactory(username="alice")
    body = {"username": "alice", "password": PASSWORD}

    response = make_user_client().post("/api/v1/auth/login", body, format="json")

    assert response.status_code == 200
    lifetimes = {}
    for kind in ("accessToken", "refreshToken"):
        token = response.json()[kind]
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["iss"], claims["aud"]) == ("mini_auth", "mini")
        lifetimes[kind] = claims["exp"] - claims["iat"]
    # iat and exp are whole seconds of two readings of the clock: one may fall a second
    # later than the other.
    assert 299 <= lifetimes["accessToken"] <= 300
    assert 86399 <= lifetimes["refreshToken"] <= 86400
    user.refresh_from_db()
    assert user.last_login is None  # a login writes nothing to the user row


def load_settings(**env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JWT_", "MINI_ENV", "MINI_INTERNAL_TOKEN", "DJANGO_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=SERVICE_DIR,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "MINI_ENV": "production",
    "DJANGO_SECRET_KEY": "a-real-secret-key-for-this-test-only-0123456789-abcdefghij",
    "MINI_INTERNAL_TOKEN": "a-real-internal-token-for-this-test-0123456789",
    "DJANGO_ALLOWED_HOSTS": "auth.example.com",
}


@pytest.mark.parametrize(
    "env, error",
    [
        ({}, "JWT_SIGNING_KEY is not set"),
        ({"JWT_SIGNING_KEY": "too-short"}, "JWT_SIGNING_KEY must be at least 32 characters"),
        (
            {"JWT_SIGNING_KEY": "dev-insecure-mini-auth-jwt-signing-key-0123456789"},
            "JWT_SIGNING_KEY is a development default",
        ),
        (
            {"JWT_SIGNING_KEY": "-----BEGIN PUBLIC KEY-----MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"},
            "not a PEM key",
        ),
        ({"JWT_SIGNING_KEY": "k" * 40, "JWT_ACCESS_TTL": "0"}, "JWT_ACCESS_TTL must be positive"),
        ({"JWT_SIGNING_KEY": "k" * 40, "JWT_ACCESS_TTL": "86400"}, "at most 3600 seconds"),
        ({"JWT_SIGNING_KEY": "k" * 40, "LOGIN_THROTTLE_RATE": "lots"}, "LOGIN_THROTTLE_RATE"),
    ],
)
def test_production_refuses_unsafe_settings(env, error):
    result = load_settings(**PRODUCTION, **env)
    assert result.returncode != 0
    assert error in result.stderr


def test_production_names_every_missing_secret_at_once():
    result = load_settings(MINI_ENV="production")
    assert result.returncode != 0
    assert "MINI_ENV=production refuses to start" in result.stderr
    for name in ("DJANGO_SECRET_KEY", "MINI_INTERNAL_TOKEN", "JWT_SIGNING_KEY"):
        assert f"{name} is not set" in result.stderr


def test_production_starts_with_a_real_key():
    result = load_settings(**PRODUCTION, JWT_SIGNING_KEY="k" * 40)
    assert result.returncode == 0, result.stderr
