"""The nginx gateway: finding or installing nginx and rendering its config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .environment import DEFAULT_INTERNAL_TOKEN, internal_token
from .layout import GATEWAY_TEMPLATE, LOOPBACK, ManageError
from .packages import apt_install

# Debian installs nginx in /usr/sbin, which is not on every user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")

DEFAULT_AUTH_RATE = "10r/s"
DEFAULT_AUTH_BURST = "20"
DEFAULT_AUTH_CACHE_TTL = "5s"

# Rendered values end up inside nginx directives: accept only shapes that
# cannot break out of them (no quotes, spaces, ';' or '$').
_VALUE_SHAPES = {
    "INTERNAL_TOKEN": r"[A-Za-z0-9._~+/=-]{1,256}",
    "AUTH_RATE": r"[0-9]+r/[sm]",
    "AUTH_BURST": r"[0-9]+",
    "AUTH_CACHE_TTL": r"[0-9]+(ms|s|m)?",
    "LISTEN": r"[A-Za-z0-9.:\[\]-]+",
    "UPSTREAM_[A-Z]+": r"[A-Za-z0-9.:\[\]-]+",
    "USER_DIRECTIVE": r"(user [a-z_][a-z0-9_-]*;)?",
}
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = Path(directory) / "nginx"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_nginx() -> str:
    """Path of nginx, installing Debian's package when we are root with apt."""
    found = find_nginx()
    if found:
        return found
    apt_install("nginx", needed_for="the gateway (with its auth_request module)")
    _stop_packaged_nginx()
    found = find_nginx()
    if not found:
        raise ManageError("apt-get installed nginx but it cannot be found")
    return found


def _stop_packaged_nginx() -> None:
    """The package may start Debian's own nginx on port 80; we do not want it."""
    if Path("/run/nginx.pid").exists():
        subprocess.run([find_nginx() or "nginx", "-s", "stop"], check=False)


def gateway_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The tunables of the gateway, from MINI_GATEWAY_* variables."""
    return {
        "AUTH_RATE": env.get("MINI_GATEWAY_AUTH_RATE") or DEFAULT_AUTH_RATE,
        "AUTH_BURST": env.get("MINI_GATEWAY_AUTH_BURST") or DEFAULT_AUTH_BURST,
        "AUTH_CACHE_TTL": env.get("MINI_GATEWAY_AUTH_CACHE_TTL") or DEFAULT_AUTH_CACHE_TTL,
    }


def user_directive() -> str:
    """Keep nginx workers as the user that starts nginx.

    A root master would otherwise run its workers as 'nobody', who cannot
    enter a private (0700) var dir to write temp and cache files.
    """
    return "user root;" if os.geteuid() == 0 else ""


def _check_value(name: str, value: str) -> None:
    for key, shape in _VALUE_SHAPES.items():
        if re.fullmatch(key, name):
            if not re.fullmatch(shape, value):
                raise ManageError(f"gateway setting {name}={value!r} is not of the form {shape}")
            return


def render(values: Mapping[str, str], template: Path = GATEWAY_TEMPLATE) -> str:
    """Substitute ${NAME} placeholders; every placeholder must have a value."""
    for name, value in values.items():
        _check_value(name, value)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ManageError(f"{template.name}: no value for ${{{name}}}")
        return values[name]

    return _PLACEHOLDER.sub(substitute, template.read_text(encoding="utf-8"))


def write_config(prefix: Path, text: str) -> Path:
    """Write the rendered config (it holds the internal token: owner only)."""
    prefix.mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def command(nginx: str, prefix: Path, conf: Path, *extra: str) -> list[str]:
    # -e: the error log for messages before the config is read (nginx would
    # otherwise try the compiled-in /var/log/nginx/error.log).
    return [nginx, "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c", str(conf), *extra]


def check_config(nginx: str, prefix: Path, conf: Path) -> None:
    result = subprocess.run(
        command(nginx, prefix, conf, "-t", "-q"), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ManageError(f"nginx rejects {conf}:\n{result.stderr.strip()}")


def command_for(
    prefix: Path, *, port: int, upstreams: Mapping[str, int], env: Mapping[str, str]
) -> list[str]:
    """Render and check the config for these ports; the nginx command that runs it.

    upstreams maps service short names to their loopback ports.
    """
    token = internal_token(env)
    if env.get("MINI_ENV") == "production" and token == DEFAULT_INTERNAL_TOKEN:
        raise ManageError("MINI_ENV=production needs a MINI_INTERNAL_TOKEN of its own")
    values = {
        "USER_DIRECTIVE": user_directive(),
        "LISTEN": f"{LOOPBACK}:{port}",
        "INTERNAL_TOKEN": token,
        **gateway_settings(env),
        **{f"UPSTREAM_{name.upper()}": f"{LOOPBACK}:{p}" for name, p in upstreams.items()},
    }
    nginx = ensure_nginx()
    conf = write_config(prefix, render(values))
    check_config(nginx, prefix, conf)
    return command(nginx, prefix, conf, "-g", "daemon off;")
