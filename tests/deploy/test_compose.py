"""compose.yaml: valid against the Compose Specification's schema, and the system it describes.

The schema is ../shared/schemas/compose-spec.json (skipped when a clone has
no ../shared beside it); the rest needs only the file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.deploy.support import COMPOSE_FILE, REPO_ROOT, SERVICES, SHARED_DIR, load_compose

SCHEMA = SHARED_DIR / "schemas" / "compose-spec.json"
MAKE_ENV = REPO_ROOT / "deploy" / "compose" / "make_env.py"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
APPS = [f"mini-{short}" for short in SERVICES]
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def interpolate(value: str) -> str:
    """What compose makes of ${VAR:-default} (the default) and ${VAR:?error} ("set")."""
    return INTERPOLATION.sub(lambda m: "set" if "?" in m.group(0) else (m.group(2) or ""), value)


def services() -> dict:
    return load_compose()["services"]


def is_one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def test_compose_validates_against_the_compose_spec():
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} is not there (a clone without ../shared)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # draft-07 (schemas/README.md); its "$schema" lacks the "#" jsonschema looks up by.
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(load_compose())
    ]
    assert not errors, "\n".join(errors)


def test_the_whole_system_is_there():
    expected = {"postgres", "redis", "gateway", *APPS, *(f"{app}-migrate" for app in APPS)}
    assert set(services()) == expected


def test_only_the_gateway_publishes_a_port_and_only_8000():
    published = {name: s["ports"] for name, s in services().items() if s.get("ports")}
    assert published == {"gateway": ["8000:8000"]}
    for service in services().values():
        assert "network_mode" not in service  # no host networking around the rule


def test_every_long_running_service_has_a_health_check():
    for name, service in services().items():
        if is_one_shot(service):
            assert service["command"][-2:] == ["migrate", "--noinput"], name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no health check"


def test_start_order_is_by_conditions():
    all_services = services()
    for name, service in all_services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for target, options in depends.items():
            condition = options["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in all_services[target], f"{name} waits for {target}"
            elif condition == "service_completed_successfully":
                assert is_one_shot(all_services[target]), f"{name} waits for {target}"
            else:
                pytest.fail(f"{name} -> {target}: {condition} starts it too early")
    for app in APPS:
        depends = all_services[app]["depends_on"]
        assert depends[f"{app}-migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        migrate = all_services[f"{app}-migrate"]["depends_on"]
        assert migrate["postgres"]["condition"] == "service_healthy"
    gateway = all_services["gateway"]["depends_on"]
    assert {t for t, o in gateway.items() if o["condition"] == "service_healthy"} == set(APPS)


def test_images_are_built_per_service_from_the_repository_root():
    all_services = services()
    for short, app in zip(SERVICES, APPS, strict=True):
        for name in (app, f"{app}-migrate"):
            build = all_services[name]["build"]
            assert build["context"] == "."
            assert (REPO_ROOT / build["dockerfile"]).is_file()
            assert build["args"] == {"SERVICE": f"mini_{short}"}
        assert all_services[app]["image"] == all_services[f"{app}-migrate"]["image"]
    gateway = all_services["gateway"]["build"]
    assert (REPO_ROOT / gateway["dockerfile"]).is_file()


def test_one_database_per_service_created_by_the_init_script():
    postgres = services()["postgres"]
    (init,) = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    script = REPO_ROOT / init.split(":")[0]
    created = set(re.findall(r"CREATE DATABASE (\w+);", script.read_text(encoding="utf-8")))
    urls = {app: interpolate(services()[app]["environment"]["DATABASE_URL"]) for app in APPS}
    databases = {urlsplit(url).path.lstrip("/") for url in urls.values()}
    assert databases == created == {f"mini_{short}" for short in SERVICES}
    for url in urls.values():
        assert urlsplit(url).hostname == "postgres"
        assert urlsplit(url).username == postgres["environment"]["POSTGRES_USER"]


def test_services_find_each_other_by_compose_names():
    """Host names with '_' are invalid for Django (400): the services are mini-<short>."""
    env = services()["mini-order"]["environment"]
    for short in SERVICES:
        host = urlsplit(env[f"MINI_{short.upper()}_URL"]).hostname
        assert host == f"mini-{short}" and host in services()
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    # The gateway container's default upstreams are the same names.
    code = (
        "import sys; sys.path.insert(0, 'deploy/docker'); import gateway_entrypoint as g; "
        "print(' '.join(g.upstream({}, s) for s in g.SERVICES))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [f"mini-{short}:8000" for short in SERVICES]


def _required_variables() -> set[str]:
    return set(REQUIRED.findall(COMPOSE_FILE.read_text(encoding="utf-8")))


def test_secrets_come_from_the_env_file_and_are_required():
    secret_keys = (
        "DJANGO_SECRET_KEY",
        "MINI_INTERNAL_TOKEN",
        "JWT_SIGNING_KEY",
        "POSTGRES_PASSWORD",
    )
    for name, service in services().items():
        for key, value in service.get("environment", {}).items():
            if key in secret_keys or key == "DATABASE_URL":
                assert REQUIRED.search(str(value)), f"{name}: {key} is not ${{VAR:?...}}"
    assert "env_file" not in str(load_compose()), "each container gets only its own secrets"


def test_make_env_writes_every_required_variable_and_env_example_names_them():
    out = subprocess.run(
        [sys.executable, str(MAKE_ENV)], capture_output=True, text=True, check=True
    ).stdout
    written = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert set(written) == _required_variables()
    for value in written.values():
        assert len(value) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", value)  # URL-safe
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    for variable in _required_variables():
        assert re.search(rf"^#?\s*{variable}=", example, re.MULTILINE), f".env.example: {variable}"
