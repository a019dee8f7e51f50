"""Print the secrets compose.yaml needs, freshly generated, as .env lines.

    python3 deploy/compose/make_env.py >> .env

Every value is URL-safe (it also ends up inside DATABASE_URL) and long
enough for MINI_ENV=production (which refuses short or development values).
The same .env is read by manage_all.py, which uses MINI_INTERNAL_TOKEN and
JWT_SIGNING_KEY too and ignores the others. Standard library only: the list
of services is mini_common's (libs/mini_common/mini_common/services.py), read
by its path, since this runs before (or without) the virtualenv.
"""

import importlib.util
import secrets
import sys
from pathlib import Path

SERVICES_FILE = Path(__file__).resolve().parents[2] / "libs/mini_common/mini_common/services.py"


def _services() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("mini_common_services", SERVICES_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the list of services from {SERVICES_FILE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.SERVICES)


SERVICES = _services()


def secret_lines() -> list[str]:
    def value(nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    return [
        "# --- docker compose secrets (deploy/compose/make_env.py) ---",
        f"POSTGRES_PASSWORD={value(24)}",
        f"MINI_INTERNAL_TOKEN={value(32)}",
        f"JWT_SIGNING_KEY={value(48)}",
        *(f"MINI_{short.upper()}_SECRET_KEY={value(48)}" for short in SERVICES),
    ]


if __name__ == "__main__":
    sys.stdout.write("\n".join(secret_lines()) + "\n")
