"""PostgreSQL: one database per service, created on demand.

manage_all itself is standard library only, so the SQL runs in the venv's
python, which has psycopg2.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .layout import DEFAULT_BASE_PORT, ManageError

DEFAULT_TEST_URL = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_PREFIX = "mini_"
# A plain identifier, short enough that "<prefix>billing" stays within PostgreSQL's 63 bytes.
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")

# Runs inside the venv: argv[1] is a JSON list of [maintenance_url, dbname],
# argv[2] "keep" (create if missing), "fresh" (drop, then create) or "drop".
_SCRIPT = """
import json, sys
import psycopg2
from psycopg2 import errors, sql
mode = sys.argv[2]
for url, name in json.loads(sys.argv[1]):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        if mode in ("fresh", "drop"):
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            cur.execute(drop.format(sql.Identifier(name)))
        if mode == "drop":
            continue
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            try:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print("created database", name)
            except errors.DuplicateDatabase:
                pass  # created meanwhile by a concurrent run
    conn.close()
"""


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def instance_prefix(base_port: int = DEFAULT_BASE_PORT, db_prefix: str | None = None) -> str:
    """The prefix of one system's database names on a shared PostgreSQL server.

    ``db_prefix`` if given (an ending "_" added); else "mini_" on the default
    base port (mini_auth, mini_user, ...) and "mini_<port>_" on another, so that
    two systems on one server never share a database.
    """
    if db_prefix is None:
        return DEFAULT_PREFIX if base_port == DEFAULT_BASE_PORT else f"mini_{base_port}_"
    prefix = db_prefix if db_prefix.endswith("_") else f"{db_prefix}_"
    if not _PREFIX.match(prefix):
        raise ManageError(
            f"--db-prefix {db_prefix!r}: a lower-case letter, then lower-case letters,"
            " digits and _ (at most 50)"
        )
    return prefix


def database_names(urls: Mapping[str, str]) -> dict[str, str]:
    """{service: database name} of the PostgreSQL URLs among urls."""
    return {name: urlsplit(url).path.lstrip("/") for name, url in urls.items() if is_postgres(url)}


def service_database_urls(
    server_url: str, services: Iterable[str], prefix: str = DEFAULT_PREFIX
) -> dict[str, str]:
    """postgresql://user@host:port -> {name: postgresql://user@host:port/<prefix><name>}.

    A database name already in server_url is ignored; query parameters
    (sslmode=...) are kept.
    """
    parts = urlsplit(server_url)
    if not is_postgres(server_url) or not parts.hostname:
        raise ManageError(f"not a PostgreSQL server URL: {server_url!r}")
    return {
        name: urlunsplit((parts.scheme, parts.netloc, f"/{prefix}{name}", parts.query, ""))
        for name in services
    }


def reachable(url: str, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections where url points."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout):
            return True
    except OSError:
        return False


def _maintenance_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise ManageError(f"database URL without a database name: {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, "")), name


def ensure_databases(python: Path, urls: Mapping[str, str], *, fresh: bool = False) -> None:
    """Create the PostgreSQL databases among urls (drop them first if fresh)."""
    _run(python, urls, "fresh" if fresh else "keep", "create")


def drop_databases(python: Path, urls: Mapping[str, str] | None) -> None:
    """Drop the PostgreSQL databases among urls (scratch ones, whose processes are gone)."""
    _run(python, urls or {}, "drop", "drop")


def _run(python: Path, urls: Mapping[str, str], mode: str, verb: str) -> None:
    targets = [_maintenance_target(url) for url in urls.values() if is_postgres(url)]
    if not targets:
        return
    result = subprocess.run(
        [str(python), "-c", _SCRIPT, json.dumps(targets), mode],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.stdout.strip():
        print(result.stdout.strip(), flush=True)
    if result.returncode != 0:
        raise ManageError(f"could not {verb} the PostgreSQL databases:\n{result.stderr.strip()}")
