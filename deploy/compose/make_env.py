"""Print the secrets compose.yaml needs, freshly generated, as .env lines.

    python3 deploy/compose/make_env.py >> .env

Every value is URL-safe (it also ends up inside DATABASE_URL) and long
enough for MINI_ENV=production (which refuses short or development values).
The same .env is read by manage_all.py, which uses MINI_INTERNAL_TOKEN and
JWT_SIGNING_KEY too and ignores the others. Standard library only.
"""

import secrets
import sys

SERVICES = ("auth", "user", "billing", "order", "notif")


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
