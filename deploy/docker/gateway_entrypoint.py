"""Entry point of the gateway container: render the gateway's template, check it, run nginx.

The same template (gateway_nginx/nginx.conf.template) and the same renderer
(tools/manage_all/gateway.py: every placeholder must have a value, and every
value is checked against its shape) as ``manage_all.py up``; only the values
differ: nginx listens on port 8000 of the container and the upstreams are the
services' names on the container network.

Environment (all optional):

- ``MINI_INTERNAL_TOKEN``: the shared secret sent in X-Internal-Token
  (``MINI_ENV=production`` refuses the development default);
- ``MINI_GATEWAY_AUTH_RATE`` / ``_AUTH_BURST`` / ``_AUTH_CACHE_TTL``: as for
  ``manage_all.py up`` (.env.example);
- ``MINI_GATEWAY_UPSTREAM_<SHORT>``: host:port of a service, default
  ``mini-<short>:8000`` (compose.yaml's service names; host names with an
  underscore are not valid HTTP hosts for Django, hence the hyphen);
- ``MINI_GATEWAY_LISTEN``: nginx's listen address, default ``8000``;
- ``MINI_GATEWAY_PREFIX``: nginx's prefix directory (rendered config, pid,
  temp files, auth cache), default /var/lib/mini-gateway.

    python3 deploy/docker/gateway_entrypoint.py          # render, nginx -t, exec nginx
    python3 deploy/docker/gateway_entrypoint.py --print  # print the rendered config

Standard library only: the image has no virtualenv.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script, also with python -I
    sys.path.insert(0, str(REPO_ROOT))

from tools.manage_all import gateway  # noqa: E402
from tools.manage_all.environment import DEFAULT_INTERNAL_TOKEN, internal_token  # noqa: E402
from tools.manage_all.layout import SERVICES, ManageError  # noqa: E402

DEFAULT_PREFIX = "/var/lib/mini-gateway"
DEFAULT_LISTEN = "8000"


def upstream(env: Mapping[str, str], short: str) -> str:
    return env.get(f"MINI_GATEWAY_UPSTREAM_{short.upper()}") or f"mini-{short}:8000"


def template_values(env: Mapping[str, str]) -> dict[str, str]:
    """The template's placeholders for a container (checked by gateway.render)."""
    token = internal_token(env)
    if env.get("MINI_ENV") == "production" and token == DEFAULT_INTERNAL_TOKEN:
        raise ManageError("MINI_ENV=production needs a MINI_INTERNAL_TOKEN of its own")
    return {
        "USER_DIRECTIVE": gateway.user_directive(),
        "LISTEN": env.get("MINI_GATEWAY_LISTEN") or DEFAULT_LISTEN,
        "INTERNAL_TOKEN": token,
        **gateway.gateway_settings(env),
        **{f"UPSTREAM_{short.upper()}": upstream(env, short) for short in SERVICES},
    }


def render(env: Mapping[str, str]) -> str:
    return gateway.render(template_values(env))


def run(env: Mapping[str, str]) -> None:
    """Write the config into the prefix, let nginx -t judge it, then become nginx."""
    prefix = Path(env.get("MINI_GATEWAY_PREFIX") or DEFAULT_PREFIX)
    conf = gateway.write_config(prefix, render(env))
    nginx = gateway.find_nginx()
    if nginx is None:
        raise ManageError("nginx is not installed in this image")
    gateway.check_config(nginx, prefix, conf)
    command = gateway.command(nginx, prefix, conf, "-g", "daemon off;")
    sys.stdout.flush()
    os.execv(command[0], command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the rendered config and exit")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        if args.print:
            sys.stdout.write(render(env))
            return 0
        run(env)
    except ManageError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 1
    return 0  # not reached: run() replaces this process with nginx


if __name__ == "__main__":
    sys.exit(main())
