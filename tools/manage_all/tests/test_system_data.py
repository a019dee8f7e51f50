"""audit / reconcile / purge_system with manage.py faked: which commands run, in what order."""

import json
import subprocess

import pytest

from tools.manage_all import System, audit_system, purge_system, reconcile_system
from tools.manage_all.invariants import EXPORTS
from tools.manage_all.layout import ManageError

from .test_invariants import CLEAN


class FakeManage:
    """Stands in for System.manage: records the calls, answers from a table."""

    def __init__(self, answers):
        self.answers = answers  # (service, command) -> (returncode, stdout, stderr)
        self.calls = []

    def __call__(self, name, *args, check=True, capture=False):
        self.calls.append((name, *args))
        code, out, err = self.answers.get((name, args[0]), (0, f"{args[0]}: done\n", ""))
        return subprocess.CompletedProcess([name, *args], code, out, err)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    manage = FakeManage({})
    monkeypatch.setattr(System, "manage", lambda system, *args, **kwargs: manage(*args, **kwargs))
    return manage, System(tmp_path / "var")


def exports_answers(exports):
    return {
        (name, "audit_export"): (0, json.dumps(exports[name]) + "\n", "")
        for name in ("auth", "user", "order", "billing", "notif")
    }


def test_audit_takes_each_export_in_causal_order(fake):
    manage, system = fake
    manage.answers.update(exports_answers(CLEAN))
    ok, report = audit_system(system)
    assert ok and report.startswith("audit OK")
    # mini_order is read again after mini_billing: see invariants.py.
    assert manage.calls == [(service, "audit_export") for _, service in EXPORTS]
    assert [c[0] for c in manage.calls] == ["auth", "user", "order", "billing", "notif", "order"]


def test_audit_reports_a_broken_invariant(fake):
    manage, system = fake
    broken = json.loads(json.dumps(CLEAN))
    broken["billing"]["accounts"][0]["balance"] = "1.00"
    manage.answers.update(exports_answers(broken))
    ok, report = audit_system(system)
    assert not ok
    assert "account alice: balance 1.00 != sum of its 2 operations 700.00" in report


def test_audit_fails_loudly_when_an_export_cannot_be_taken(fake):
    manage, system = fake
    manage.answers.update(exports_answers(CLEAN))
    manage.answers["billing", "audit_export"] = (1, "", "OperationalError: no such table")
    with pytest.raises(ManageError, match="mini_billing: manage.py audit_export failed"):
        audit_system(system)
    manage.answers["billing", "audit_export"] = (0, "not json", "")
    with pytest.raises(ManageError, match="printed no JSON document"):
        audit_system(system)


def test_reconcile_runs_auth_then_order_then_notif(fake):
    manage, system = fake
    manage.answers["order", "reconcile"] = (0, "reconcile: paid 1, cancelled 0\n", "log line")
    output = reconcile_system(system)
    assert manage.calls == [("auth", "reconcile"), ("order", "reconcile"), ("notif", "reconcile")]
    assert output.splitlines() == [
        "mini_auth    reconcile: done",
        "mini_order   reconcile: paid 1, cancelled 0",
        "mini_notif   reconcile: done",
    ]


def test_reconcile_runs_every_command_and_raises_when_one_crashed(fake):
    manage, system = fake
    manage.answers["auth", "reconcile"] = (1, "", "Traceback ...\nRuntimeError: boom")
    with pytest.raises(ManageError) as error:
        reconcile_system(system)
    assert len(manage.calls) == 3
    assert "mini_auth    manage.py reconcile FAILED (exit 1)\n    Traceback" in str(error.value)
    assert "RuntimeError: boom" in str(error.value)
    assert "mini_notif   reconcile: done" in str(error.value)


def test_purge_clears_idempotency_keys_everywhere_and_auth_tokens(fake):
    manage, system = fake
    purge_system(system)
    assert manage.calls == [
        ("auth", "purge_idempotency_keys"),
        ("user", "purge_idempotency_keys"),
        ("billing", "purge_idempotency_keys"),
        ("order", "purge_idempotency_keys"),
        ("notif", "purge_idempotency_keys"),
        ("auth", "purge_tokens"),
    ]
