"""The environment manage_all runs the services with.

Precedence, lowest first: the repository's `.env` file, the process
environment (System adds its own values and a caller's env on top).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .layout import DOTENV

DEFAULT_INTERNAL_TOKEN = "dev-internal-token"


def read_dotenv(path: Path = DOTENV) -> dict[str, str]:
    """Parse KEY=VALUE lines; '#' comments, blank lines and `export ` are allowed."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def base_environment() -> dict[str, str]:
    env = read_dotenv()
    env.update(os.environ)
    # Loopback calls between services must never go through an HTTP proxy.
    no_proxy = [p for p in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if p]
    for host in ("127.0.0.1", "localhost"):
        if host not in no_proxy:
            no_proxy.append(host)
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def internal_token(env: Mapping[str, str]) -> str:
    return env.get("MINI_INTERNAL_TOKEN") or DEFAULT_INTERNAL_TOKEN
