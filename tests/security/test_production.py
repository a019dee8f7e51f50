"""Production mode: `check --deploy` is clean, and nothing starts without real secrets."""

import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
SERVICES = ["auth", "user", "billing", "order", "notif"]
SECRETS = ["DJANGO_SECRET_KEY", "MINI_INTERNAL_TOKEN", "JWT_SIGNING_KEY"]


def production_env(tmp_path: Path, service: str, **overrides: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "JWT_", "MINI_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        {
            "MINI_ENV": "production",
            "MINI_VAR_DIR": str(tmp_path / service),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "MINI_INTERNAL_TOKEN": secrets.token_urlsafe(32),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(service: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PYTHON), *args],
        cwd=REPO_ROOT / f"mini_{service}",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def in_parallel(call, services=SERVICES) -> dict[str, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return dict(zip(services, pool.map(call, services), strict=True))


def test_check_deploy_is_clean_for_every_service(tmp_path):
    results = in_parallel(
        lambda service: run(
            service,
            production_env(tmp_path, service),
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        )
    )
    for service, result in results.items():
        assert result.returncode == 0, f"mini_{service}:\n{result.stdout}{result.stderr}"
        assert "System check identified no issues" in result.stdout, result.stdout


def test_without_secrets_no_service_starts_and_each_says_what_is_missing(tmp_path):
    missing = {name: None for name in SECRETS}
    results = in_parallel(
        lambda service: run(
            service,
            production_env(tmp_path, service, **missing),
            "-c",
            "from config.wsgi import application",
        )
    )
    for service, result in results.items():
        assert result.returncode != 0, f"mini_{service} started without secrets"
        assert "MINI_ENV=production refuses to start" in result.stderr
        assert "DJANGO_SECRET_KEY is not set" in result.stderr
        assert "MINI_INTERNAL_TOKEN is not set" in result.stderr
    assert "JWT_SIGNING_KEY is not set" in results["auth"].stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "DJANGO_SECRET_KEY",
            "dev-insecure-mini_auth-secret-key" + "x" * 30,
            "development default",
        ),
        ("MINI_INTERNAL_TOKEN", "dev-internal-token", "development default"),
        ("MINI_INTERNAL_TOKEN", "short", "at least 32 characters"),
        ("JWT_SIGNING_KEY", "short", "at least 32 characters"),
        ("DJANGO_DEBUG", "true", "DJANGO_DEBUG must be off"),
    ],
)
def test_production_refuses_defaults_weak_secrets_and_debug(tmp_path, name, value, message):
    result = run(
        "auth", production_env(tmp_path, "auth", **{name: value}), "-c", "import config.settings"
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_a_real_configuration_starts(tmp_path):
    result = run(
        "auth", production_env(tmp_path, "auth"), "-c", "from config.wsgi import application"
    )
    assert result.returncode == 0, result.stderr
