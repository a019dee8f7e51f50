"""`up`: what it does besides starting the processes."""

from tools.manage_all import commands


def test_up_seeds_no_demo_user_in_production(monkeypatch, capsys):
    class NoSeeding:
        def has_command(self, *args):
            raise AssertionError("production must not reach the seeding")

    monkeypatch.setenv("MINI_ENV", "production")
    assert commands._seed_demo(NoSeeding()) is False
    assert "production: no demo user" in capsys.readouterr().out
