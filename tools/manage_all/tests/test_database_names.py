"""`up --postgres URL`: each system's databases are its own (issue 15).

Two systems on one PostgreSQL server (another --base-port, or --db-prefix) get
other database names; the default port keeps mini_auth, mini_user, ...
"""

from urllib.parse import urlsplit

import pytest

from tools.manage_all import commands, postgres
from tools.manage_all.cli import build_parser
from tools.manage_all.layout import SERVICES, ManageError

SERVER = "postgresql://postgres@db.example:5432"


def system_for(monkeypatch, tmp_path, *argv):
    monkeypatch.setenv("MINI_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(commands, "existing_services", lambda: list(SERVICES))
    return commands._system_for_up(build_parser().parse_args(["up", *argv]))


def names(system) -> list[str]:
    return [urlsplit(system.database_urls[name]).path.lstrip("/") for name in SERVICES]


def test_the_default_port_keeps_the_default_names(monkeypatch, tmp_path):
    system = system_for(monkeypatch, tmp_path, "--postgres", SERVER)
    assert names(system) == ["mini_auth", "mini_user", "mini_billing", "mini_order", "mini_notif"]
    assert system.database_urls["auth"] == f"{SERVER}/mini_auth"


def test_another_base_port_gets_databases_of_its_own(monkeypatch, tmp_path):
    system = system_for(monkeypatch, tmp_path, "--postgres", SERVER, "--base-port", "9000")
    assert names(system) == [f"mini_9000_{name}" for name in SERVICES]
    default = system_for(monkeypatch, tmp_path / "other", "--postgres", SERVER)
    assert not set(names(system)) & set(names(default))


def test_an_explicit_prefix_names_them(monkeypatch, tmp_path):
    system = system_for(
        monkeypatch, tmp_path, "--postgres", f"{SERVER}/ignored?sslmode=require",
        "--base-port", "9000", "--db-prefix", "staging",
    )  # fmt: skip
    assert names(system) == [f"staging_{name}" for name in SERVICES]
    assert system.database_urls["order"] == f"{SERVER}/staging_order?sslmode=require"


@pytest.mark.parametrize("prefix", ["Staging", "9lives", "_x", "a-b", "x;drop", "", "s" * 51])
def test_a_prefix_that_is_no_plain_identifier_is_refused(prefix):
    with pytest.raises(ManageError, match="--db-prefix"):
        postgres.instance_prefix(8000, prefix)


def test_a_prefix_without_postgres_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ManageError, match="--postgres"):
        system_for(monkeypatch, tmp_path, "--db-prefix", "staging")


def test_sqlite_keeps_its_files_and_names_no_database(monkeypatch, tmp_path):
    system = system_for(monkeypatch, tmp_path, "--base-port", "9000")
    assert postgres.database_names(system.database_urls) == {}
    assert system.database_urls["auth"].startswith("sqlite:///")


def test_up_prints_the_names_it_uses(monkeypatch, tmp_path, capsys):
    system = system_for(monkeypatch, tmp_path, "--postgres", SERVER, "--base-port", "9100")
    commands._print_summary(system, seeded=False)
    out = capsys.readouterr().out
    assert "databases    mini_9100_auth, mini_9100_user, mini_9100_billing" in out
    assert "mini_9100_notif" in out


def test_a_sqlite_summary_has_no_databases_line(monkeypatch, tmp_path, capsys):
    commands._print_summary(system_for(monkeypatch, tmp_path), seeded=False)
    assert "databases" not in capsys.readouterr().out
