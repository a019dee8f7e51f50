"""The images, without a Docker engine: what the Dockerfiles say, and their helper scripts run.

- deploy/docker/Dockerfile: one image per service (build arg SERVICE);
- deploy/docker/gateway.Dockerfile: nginx with the repository's template,
  rendered by deploy/docker/gateway_entrypoint.py through manage_all's renderer;
- deploy/docker/healthcheck.py: the services' HEALTHCHECK.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from tests.deploy.support import REPO_ROOT, SERVICES

DOCKER_DIR = REPO_ROOT / "deploy" / "docker"
SERVICE_DOCKERFILE = DOCKER_DIR / "Dockerfile"
GATEWAY_DOCKERFILE = DOCKER_DIR / "gateway.Dockerfile"
ENTRYPOINT = DOCKER_DIR / "gateway_entrypoint.py"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
BASE_REQUIREMENTS = REPO_ROOT / "requirements" / "base.txt"


def instructions(dockerfile) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def arguments(dockerfile, keyword: str) -> list[str]:
    return [rest for key, rest in instructions(dockerfile) if key == keyword]


@pytest.mark.parametrize("dockerfile", [SERVICE_DOCKERFILE, GATEWAY_DOCKERFILE])
def test_slim_python_base_non_root_user_health_check(dockerfile):
    assert arguments(dockerfile, "ARG")[0].startswith("PYTHON_IMAGE=python:3.11-slim")
    assert arguments(dockerfile, "FROM") == ["${PYTHON_IMAGE}"]
    (user,) = arguments(dockerfile, "USER")
    assert not user.startswith(("0", "root")), user
    assert [key for key, _ in instructions(dockerfile)][-2:] == ["HEALTHCHECK", "CMD"]
    assert arguments(dockerfile, "EXPOSE") == ["8000"]


def test_service_image_installs_runtime_requirements_and_mini_common_as_a_package():
    runs = " ".join(arguments(SERVICE_DOCKERFILE, "RUN"))
    assert "requirements/base.txt" in " ".join(arguments(SERVICE_DOCKERFILE, "COPY"))
    assert "dev.txt" not in SERVICE_DOCKERFILE.read_text(encoding="utf-8")
    assert "pip install --no-deps /tmp/mini_common" in runs
    assert "pip install -e" not in runs
    assert "collectstatic --noinput" in runs
    # The filter the image applies keeps every pinned line of base.txt but the editable one.
    command = re.search(r"grep -vE '([^']+)'", runs).group(1)
    kept = subprocess.run(
        ["grep", "-vE", command, str(BASE_REQUIREMENTS)], capture_output=True, text=True
    ).stdout.splitlines()
    requirement_lines = [line for line in kept if line.strip() and not line.startswith("#")]
    assert requirement_lines and all("==" in line for line in requirement_lines), kept
    assert not [line for line in kept if line.lstrip().startswith(("-e", "-r"))]


def test_service_image_runs_gunicorn_with_the_shared_config():
    (cmd,) = arguments(SERVICE_DOCKERFILE, "CMD")
    assert "exec gunicorn -c python:mini_common.gunicorn_conf" in cmd
    assert '--chdir \\"/app/${MINI_SERVICE}\\"' in cmd
    assert "--bind 0.0.0.0:8000 config.wsgi:application" in cmd
    env = " ".join(arguments(SERVICE_DOCKERFILE, "ENV"))
    assert "MINI_SERVICE=${SERVICE}" in env and "MINI_VAR_DIR=/app/var" in env
    case = " ".join(arguments(SERVICE_DOCKERFILE, "RUN"))
    for short in SERVICES:
        assert f"mini_{short}" in case  # the accepted SERVICE values


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build_context():
    ignored = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".env", ".git", ".venv", "var", "**/__pycache__"} <= ignored
    for needed in ("requirements", "libs", "tools", "gateway_nginx", "deploy/docker"):
        assert needed not in ignored


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_names_the_service_by_its_internal_host():
    healthcheck = _load(DOCKER_DIR / "healthcheck.py", "mini_healthcheck")
    env = {"MINI_SERVICE": "mini_order", "MINI_ORDER_URL": "http://mini-order:8000"}
    assert healthcheck.host_header(env) == "mini-order:8000"
    assert healthcheck.host_header({"MINI_SERVICE": "mini_order"}) == "127.0.0.1"


def _render(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, so the entry point must get by with the standard
    # library, as in the gateway image (which has no virtualenv).
    env = {"PATH": "/usr/bin:/bin", **extra_env}
    return subprocess.run(
        [sys.executable, "-S", str(ENTRYPOINT), "--print"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        check=False,
    )


def test_gateway_entrypoint_renders_the_template_for_the_container_network():
    result = _render({"MINI_INTERNAL_TOKEN": "a-token-of-the-deployment"})
    assert result.returncode == 0, result.stderr
    config = result.stdout
    assert not re.search(r"\$\{[A-Z][A-Z0-9_]*\}", config), "a placeholder was left"
    for short in SERVICES:
        assert re.search(rf"upstream mini_{short} \{{\s*server mini-{short}:8000;", config)
    assert re.search(r"^\s*listen 8000;", config, re.MULTILINE)
    assert 'proxy_set_header X-Internal-Token "a-token-of-the-deployment";' in config


def test_gateway_entrypoint_refuses_the_development_token_in_production():
    result = _render({"MINI_ENV": "production"})
    assert result.returncode == 1
    assert "MINI_INTERNAL_TOKEN" in result.stderr


def test_gateway_entrypoint_refuses_values_that_would_break_out_of_nginx_directives():
    result = _render({"MINI_GATEWAY_UPSTREAM_AUTH": "evil; include /etc/passwd"})
    assert result.returncode == 1
    assert "UPSTREAM_AUTH" in result.stderr


def test_gateway_image_carries_the_repository_template_and_renderer():
    copies = " ".join(arguments(GATEWAY_DOCKERFILE, "COPY"))
    for source in (
        "gateway_nginx/nginx.conf.template",
        "tools/manage_all",
        "libs/mini_common/mini_common/services.py",  # layout.py's list of services
        "deploy/docker/gateway_entrypoint.py",
    ):
        assert source in copies
    assert "install -y --no-install-recommends nginx" in " ".join(
        arguments(GATEWAY_DOCKERFILE, "RUN")
    )
