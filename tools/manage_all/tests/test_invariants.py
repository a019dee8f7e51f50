"""The audit's invariants over hand-made export documents (no Django, no running system)."""

import copy

import pytest

from tools.manage_all.audit import audit_exports
from tools.manage_all.invariants import check_all
from tools.manage_all.layout import ManageError

# A consistent system: alice paid order 1, could not pay order 2, abandoned order 3.
CLEAN = {
    "auth": {"completeUsernames": ["alice"], "pendingRegistrations": []},
    "user": {"profileUsernames": ["alice"]},
    "order": {
        "orders": [
            {"id": 1, "username": "alice", "status": "PAID", "totalCost": "300.00",
             "notifiedStatus": "PAID"},
            {"id": 2, "username": "alice", "status": "INSUFFICIENT_FUNDS",
             "totalCost": "5000.00", "notifiedStatus": "INSUFFICIENT_FUNDS"},
            {"id": 3, "username": "alice", "status": "CANCELLED", "totalCost": "1.00",
             "notifiedStatus": ""},
        ]
    },
    "billing": {
        "accounts": [
            {"username": "alice", "balance": "700.00", "operationsTotal": "700.00",
             "operations": 2}
        ],
        "payments": [{"id": 2, "orderId": 1, "username": "alice", "amount": "300.00"}],
    },
    "notif": {
        "notifications": [
            {"parentType": "ORDER", "parentId": "1", "type": "SUCCESS", "count": 1, "sent": 1},
            {"parentType": "ORDER", "parentId": "2", "type": "FAIL", "count": 1, "sent": 1},
        ]
    },
}  # fmt: skip


@pytest.fixture
def exports():
    return copy.deepcopy(CLEAN)


def outcome(exports):
    """{invariant name: (violations, pending)} of the invariants that are not clean."""
    _, results = check_all(exports)
    return {r.name: (r.violations, r.pending) for r in results if r.violations or r.pending}


def order(exports, order_id):
    return next(o for o in exports["order"]["orders"] if o["id"] == order_id)


def test_a_consistent_system_passes(exports):
    _, results = check_all(exports)
    assert outcome(exports) == {}
    assert {r.name: r.checked for r in results} == {
        "balances": 1,
        "paid orders": 1,
        "payments have orders": 1,
        "unpaid orders": 2,
        "registrations": 1,
        "order notifications": 2,
        "unique notifications": 2,
    }


def test_a_balance_other_than_the_sum_of_operations(exports):
    exports["billing"]["accounts"][0]["balance"] = "5000.00"
    assert outcome(exports) == {
        "balances": (
            ["account alice: balance 5000.00 != sum of its 2 operations 700.00"],
            [],
        )
    }


def test_a_negative_balance(exports):
    exports["billing"]["accounts"][0].update(balance="-1.00", operationsTotal="-1.00")
    assert outcome(exports)["balances"][0] == ["account alice: negative balance -1.00"]


def test_amounts_compare_as_decimals(exports):
    exports["billing"]["accounts"][0]["operationsTotal"] = "700"
    assert outcome(exports) == {}


def test_a_paid_order_without_its_payment(exports):
    exports["billing"]["payments"] = []
    assert outcome(exports) == {
        "paid orders": (["order 1 (alice, PAID 300.00): no PAYMENT in mini_billing"], [])
    }


def test_a_paid_order_paid_twice_wrongly_or_by_someone_else(exports):
    payments = exports["billing"]["payments"]
    payments.append({"id": 3, "orderId": 1, "username": "alice", "amount": "300.00"})
    assert outcome(exports)["paid orders"][0] == [
        "order 1 (alice, PAID 300.00): 2 PAYMENTs in mini_billing"
    ]
    payments[:] = [{"id": 2, "orderId": 1, "username": "bob", "amount": "30.00"}]
    assert outcome(exports)["paid orders"][0] == [
        "order 1 (alice, PAID 300.00): PAYMENT #2 of 30.00 on bob's account is not its totalCost",
        "order 1 (alice, PAID 300.00): PAYMENT #2 of 30.00 on bob's account, not the owner's",
    ]


def test_a_payment_without_its_order_even_when_mini_order_lost_everything(exports):
    exports["order"]["orders"] = []
    assert outcome(exports)["payments have orders"][0] == [
        "PAYMENT #2 of 300.00 on alice's account for order 1: no such order in mini_order"
    ]


def test_a_payment_of_an_order_still_new_or_placed_meanwhile_is_pending(exports):
    new = {"id": 4, "username": "alice", "status": "NEW", "totalCost": "5.00", "notifiedStatus": ""}
    exports["billing"]["payments"].append(
        {"id": 3, "orderId": 4, "username": "alice", "amount": "5.00"}
    )
    exports["order_again"] = {"orders": [*exports["order"]["orders"], new]}  # after billing's
    assert outcome(exports) == {
        "payments have orders": (
            [],
            [
                "PAYMENT #3 of 5.00 on alice's account for order 4: "
                "order still NEW (reconcile makes it PAID)"
            ],
        )
    }


@pytest.mark.parametrize("order_id", [2, 3])
def test_an_unpaid_order_with_a_payment(exports, order_id):
    exports["billing"]["payments"].append(
        {"id": 9, "orderId": order_id, "username": "alice", "amount": "1.00"}
    )
    [violation] = outcome(exports)["unpaid orders"][0]
    assert violation.startswith(f"order {order_id} (alice, ")
    assert violation.endswith("has PAYMENT #9 of 1.00 on alice's account")


def test_a_registered_user_without_profile_or_account(exports):
    exports["auth"]["completeUsernames"].append("bob")
    exports["user"]["profileUsernames"].append("bob")
    exports["auth"]["completeUsernames"].append("carol")
    assert outcome(exports)["registrations"][0] == [
        "user bob: no account in mini_billing",
        "user carol: no profile in mini_user and no account in mini_billing",
    ]


def test_a_pending_registration_is_pending_with_its_age(exports):
    exports["auth"]["pendingRegistrations"].append(
        {"username": "dave", "ageSeconds": 7300, "attempts": 3,
         "lastError": "dependency_unavailable: mini_billing"}
    )  # fmt: skip
    assert outcome(exports) == {
        "registrations": (
            [],
            [
                "user dave: registration PENDING for 2h "
                "(3 attempts, last error dependency_unavailable: mini_billing)"
            ],
        )
    }


def test_a_notification_still_owed_or_unsent_is_pending(exports):
    exports["notif"]["notifications"] = [
        {"parentType": "ORDER", "parentId": "2", "type": "FAIL", "count": 1, "sent": 0}
    ]
    order(exports, 1)["notifiedStatus"] = ""
    assert outcome(exports) == {
        "order notifications": (
            [],
            [
                "order 1 (alice, PAID 300.00): SUCCESS notification still owed by mini_order",
                "order 2 (alice, INSUFFICIENT_FUNDS 5000.00): FAIL notification not sent by "
                "mini_notif yet",
            ],
        )
    }


def test_a_notified_order_without_its_notification(exports):
    exports["notif"]["notifications"][0]["type"] = "FAIL"  # the wrong one does not count
    assert outcome(exports)["order notifications"][0] == [
        "order 1 (alice, PAID 300.00): marked notified, but mini_notif has no SUCCESS notification"
    ]


def test_duplicated_notifications(exports):
    exports["notif"]["notifications"][0]["count"] = 2
    assert outcome(exports) == {"unique notifications": (["ORDER 1: 2 SUCCESS notifications"], [])}


# --- the report ------------------------------------------------------------------------


def test_the_report_of_a_clean_system(exports):
    ok, report = audit_exports(exports)
    lines = report.splitlines()
    assert ok
    assert lines[0] == "audit OK: all 7 invariants hold"
    assert lines[1].startswith("data: 1 registered users (+0 pending), 1 profiles, 1 accounts")
    assert sum(line.lstrip().startswith("ok ") for line in lines) == 7
    assert "violations:" not in report and "pending" not in lines[0]


def test_the_report_lists_violations_capped_per_invariant(exports):
    exports["billing"]["accounts"] = [
        {"username": f"u{n}", "balance": "1.00", "operationsTotal": "0.00", "operations": 0}
        for n in range(25)
    ]
    exports["auth"]["completeUsernames"] = []
    exports["billing"]["payments"] = []
    ok, report = audit_exports(exports, limit=20)
    assert not ok
    assert report.splitlines()[0] == "audit FAILED: 2 of 7 invariants broken, 26 violations"
    assert "  FAIL balances" in report
    assert "  balances (25):\n    account u0: balance 1.00 != sum" in report
    assert "account u19:" in report and "account u20:" not in report
    assert "    ... and 5 more" in report
    assert "  paid orders (1):\n    order 1 (alice, PAID 300.00): no PAYMENT" in report


def test_the_report_shows_pending_work_apart_from_failures(exports):
    order(exports, 1)["notifiedStatus"] = ""
    exports["notif"]["notifications"].pop(0)
    ok, report = audit_exports(exports)
    assert ok
    assert report.splitlines()[0] == "audit OK: all 7 invariants hold; 1 pending"
    assert "pending (not failures; `manage_all.py reconcile` finishes them):" in report


def test_an_export_in_another_format_is_an_error_not_a_verdict(exports):
    del exports["billing"]["payments"]
    with pytest.raises(ManageError, match="not in the expected format"):
        audit_exports(exports)
