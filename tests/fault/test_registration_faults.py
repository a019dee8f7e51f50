"""Registration while mini_billing is down: nobody half-registered logs in; it completes later."""

from tests.fault.helpers import assert_audit_clean, audit, reconcile, register_until
from tests.support import PASSWORD, assert_problem, login, registration_body, unique_username


def cannot_log_in(gateway, username):
    response = gateway.post("/api/v1/auth/login", {"username": username, "password": PASSWORD})
    assert_problem(response, 401)


def test_registration_with_billing_down_completes_by_repeat_or_by_reconcile(outage):
    gateway, system = outage.gateway, outage.system
    repeated = registration_body(unique_username("reg"))
    abandoned = registration_body(unique_username("reg"))
    system.stop_service("billing")
    try:
        for body in (repeated, abandoned):
            response = gateway.post("/api/v1/auth/register", body)
            assert_problem(response, 503, "dependency_unavailable")
            assert int(response.headers["Retry-After"]) >= 1
            cannot_log_in(gateway, body["username"])
        # Half-made registrations are work in flight for the audit, not violations.
        ok, report, settled = audit(system)
        assert ok and not settled, report
        for body in (repeated, abandoned):
            assert f"user {body['username']}: registration PENDING" in report, report
    finally:
        system.start_service("billing")
        system.wait_ready(["billing"])

    # The client repeats its request: the registration resumes and completes.
    response = register_until(gateway, repeated)
    assert response.status_code == 201, response.text
    # The other never comes back: only reconcile can finish it.
    cannot_log_in(gateway, abandoned["username"])
    summary = reconcile(system)
    assert "1 pending registrations, 1 completed" in summary, summary

    for body in (repeated, abandoned):
        me = gateway.as_user(login(gateway, body["username"])["accessToken"])
        balance = me.get("/billing/account/balance")
        assert balance.status_code == 200 and balance.json()["balance"] == 0, balance.text
        profile = me.get(f"/api/v1/user/{body['username']}")
        assert profile.status_code == 200 and profile.json()["email"] == body["email"]
    assert_audit_clean(system, reconciled=False)
