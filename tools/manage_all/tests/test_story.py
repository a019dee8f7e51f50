"""`story`: finding an order in the logs, the story's assembly, audit, timeline and text.

The services are stood in for by a fake System whose `manage.py story_*`
prints hand-made documents (the shape each service's own tests pin), and
whose logs are files written here.
"""

import copy
import json
import subprocess
from pathlib import Path

import pytest

from tools.manage_all import cli, story, story_text
from tools.manage_all.layout import ManageError
from tools.manage_all.story_logs import OrderMatcher, mentions
from tools.manage_all.story_timeline import iso, order_outcome, parse_time

CREATED = "2026-01-02T10:00:00.050000+00:00"
T_CREATED = parse_time(CREATED)

ORDER = {
    "id": 5, "username": "alice", "totalCost": "300.00", "status": "PAID",
    "notifiedStatus": "PAID", "paymentOperationId": "3", "paymentVoided": False,
    "lockedUntil": None, "createdAt": CREATED, "updatedAt": "2026-01-02T10:00:00.200000+00:00",
    "positions": [{"id": 1, "productId": 1, "price": "150.00", "quantity": 2}],
}  # fmt: skip
PAYMENT = {
    "id": 3, "accountId": 2, "type": "PAYMENT", "amount": "300.00", "balanceAfter": "700.00",
    "orderId": 5, "createdAt": "2026-01-02T10:00:00.100000+00:00", "username": "alice",
}  # fmt: skip
NOTIFICATION = {
    "id": 8, "notificationType": "SUCCESS", "parentType": "ORDER", "parentId": "5",
    "username": "alice", "text": "Your order #5 is paid.", "contactEmail": "alice@example.com",
    "contactPhone": "", "deliveryStatus": "SENT", "attempts": 1, "lastError": "",
    "sentAt": "2026-01-02T10:00:00.160000+00:00",
    "createdAt": "2026-01-02T10:00:00.150000+00:00",
    "updatedAt": "2026-01-02T10:00:00.160000+00:00",
}  # fmt: skip
PROFILE = {
    "id": 2, "username": "alice", "email": "alice@example.com", "phone": "",
    "createdAt": "2026-01-02T09:00:00+00:00", "updatedAt": "2026-01-02T09:00:00+00:00",
}  # fmt: skip


def order_documents(order=ORDER, payments=(PAYMENT,), notifications=(NOTIFICATION,)):
    """What the services print for order 5: {(service, command): document}."""
    audit_order = (
        [{key: order[key] for key in ("id", "username", "status", "totalCost", "notifiedStatus")}]
        if order
        else []
    )
    return {
        ("order", "story_order"): {"order": order, "audit": {"orders": audit_order}},
        ("billing", "story_order"): {
            "payments": list(payments),
            "voids": [],
            "paymentRequests": [],
            "audit": {
                "payments": [
                    {
                        "id": p["id"],
                        "orderId": p["orderId"],
                        "username": p["username"],
                        "amount": p["amount"],
                    }
                    for p in payments
                ]
            },  # fmt: skip
        },
        ("notif", "story_order"): {
            "notifications": list(notifications),
            "audit": {
                "notifications": [
                    {
                        "parentType": "ORDER",
                        "parentId": n["parentId"],
                        "type": n["notificationType"],
                        "count": 1,
                        "sent": 1,
                    }
                    for n in notifications
                ]
            },  # fmt: skip
        },
        ("user", "story_user"): {"profile": PROFILE, "audit": {"profileUsernames": ["alice"]}},
    }


class FakeSystem:
    """What the story reads of a System: manage.py's output, the log and trace files."""

    services = ("auth", "user", "billing", "order", "notif")

    def __init__(self, var_dir: Path, documents: dict) -> None:
        self.var_dir = var_dir
        self.nginx_dir = var_dir / "nginx"
        self.documents = documents
        self.calls: list[tuple[str, ...]] = []

    def log_file(self, name: str) -> Path:
        return self.var_dir / "log" / f"mini_{name}.log"

    def has_command(self, name: str, command: str) -> bool:
        return True

    def manage(self, name, *args, capture=False, check=True):
        self.calls.append((name, *args))
        document = self.documents[(name, args[0])]
        return subprocess.CompletedProcess(args, 0, stdout=json.dumps(document), stderr="")


def write_log(path: Path, entries: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["gunicorn says hello", *(json.dumps(entry) for entry in entries), "{half a line"]
    path.write_text("\n".join(lines) + "\n")


def access(service, method, path, *, end, duration_ms, request_id, username="alice", **extra):
    return {
        "time": iso(end).replace("000Z", "Z"), "level": "info", "logger": "mini_common.access",
        "message": f"{method} {path} 201", "service": service, "method": method, "path": path,
        "status": 201, "duration_ms": duration_ms, "request_id": request_id,
        "username": username, **extra,
    }  # fmt: skip


# --- finding the order in the logs ---------------------------------------------------------


def test_lines_name_the_order_by_its_id_path_payment_or_notification(tmp_path):
    log = tmp_path / "mini_x.log"
    write_log(
        log,
        [
            {"time": "2026-01-02T10:00:00.101Z", "service": "mini_billing", "request_id": "r1",
             "message": "PAYMENT 300.00 on account alice", "order_id": 5, "operation_id": 3},
            {"time": "2026-01-02T10:00:00.102Z", "service": "mini_billing", "request_id": "r9",
             "message": "PAYMENT of another order", "order_id": 55},
            access("mini_order", "GET", "/api/v1/order/5", end=T_CREATED + 5, duration_ms=3,
                   request_id="r2"),
            access("mini_order", "GET", "/api/v1/order/51", end=T_CREATED + 6, duration_ms=3,
                   request_id="r8"),
            {"time": "2026-01-02T10:00:00.161Z", "service": "mini_notif", "request_id": "r3",
             "message": "notification 8 delivered to the log channel", "notification_id": 8},
            {"time": "2026-01-02T10:01:00.000Z", "service": "mini_order", "request_id": "",
             "message": "order 5 cancelled: never paid", "order_id": 5},
        ],
    )  # fmt: skip
    matcher = OrderMatcher(order_id=5, notification_ids={"8"}, operation_ids={"3"})

    requests, loose = mentions([log, tmp_path / "missing.log"], matcher)

    assert requests == {
        "r1": ['mini_billing logged "PAYMENT 300.00 on account alice"'],
        "r2": ["mini_order: GET /api/v1/order/5 → 201"],
        "r3": ['mini_notif logged "notification 8 delivered to the log channel"'],
    }
    assert [entry["message"] for entry in loose] == ["order 5 cancelled: never paid"]


def test_the_post_that_created_the_order_is_the_owners_running_at_its_created_at(tmp_path):
    log = tmp_path / "mini_order.log"
    write_log(
        log,
        [
            # alice's POST from 10:00:00.040 to .090: the order was created at .050.
            access("mini_order", "POST", "/api/v1/order", end=T_CREATED + 0.040, duration_ms=50,
                   request_id="placed"),
            # Her POST that ended just before, bob's running at the time, a gateway line.
            access("mini_order", "POST", "/api/v1/order", end=T_CREATED - 0.010, duration_ms=30,
                   request_id="earlier"),
            access("mini_order", "POST", "/api/v1/order", end=T_CREATED + 0.020, duration_ms=50,
                   request_id="bobs", username="bob"),
            access("gateway", "POST", "/api/v1/order", end=T_CREATED + 0.045, duration_ms=60,
                   request_id="placed"),
        ],
    )  # fmt: skip
    matcher = OrderMatcher(order_id=5, username="alice", created=T_CREATED)

    requests, _ = mentions([log], matcher)

    assert list(requests) == ["placed"]
    [why] = requests["placed"]
    assert why.startswith("mini_order: POST /api/v1/order by alice was running when the order")


# --- the story assembled --------------------------------------------------------------------


@pytest.fixture
def paid_system(tmp_path):
    system = FakeSystem(tmp_path, order_documents())
    write_log(
        system.log_file("order"),
        [access("mini_order", "POST", "/api/v1/order", end=T_CREATED + 0.2, duration_ms=210,
                request_id="rid-1")],
    )  # fmt: skip
    return system


def test_a_paid_orders_story_has_its_payment_notification_request_and_clean_audit(paid_system):
    told = story.order_story(paid_system, 5, wait=0)

    assert told["outcome"] == {
        "status": "PAID",
        "reason": "paid: PAYMENT #3 of 300.00",
        "notifiedStatus": "PAID",
    }
    assert list(told["services"]) == ["mini_order", "mini_billing", "mini_notif", "mini_user"]
    assert [(e["service"], e["event"]) for e in told["timeline"]] == [
        ("mini_order", "request"),
        ("mini_order", "order.created"),
        ("mini_billing", "operation.payment"),
        ("mini_notif", "notification.created"),
        ("mini_notif", "notification.sent"),
        ("mini_order", "order.written"),
    ]
    assert told["audit"]["ok"] is True
    checked = {row["name"]: row["checked"] for row in told["audit"]["invariants"]}
    assert checked == {
        "paid orders": 1,
        "payments have orders": 1,
        "unpaid orders": 0,
        "order notifications": 1,
        "unique notifications": 1,
    }
    [request] = told["requests"]
    assert (request["requestId"], request["traces"]) == ("rid-1", [])
    # mini_order first, then the others (the audit's order); no second read was needed.
    assert paid_system.calls[0] == ("order", "story_order", "5")
    assert [call for call in paid_system.calls if call[0] == "order"] == [paid_system.calls[0]]


def test_a_paid_order_without_its_payment_fails_the_audit(tmp_path):
    system = FakeSystem(tmp_path, order_documents(payments=()))

    told = story.order_story(system, 5, wait=0)

    assert told["outcome"]["reason"] == "marked PAID, but mini_billing has no PAYMENT for it"
    assert told["audit"]["ok"] is False
    [broken] = [row for row in told["audit"]["invariants"] if row["violations"]]
    assert broken["name"] == "paid orders"
    assert "no PAYMENT in mini_billing" in broken["violations"][0]


def test_a_payment_whose_order_mini_order_lacks_is_told_and_read_twice(tmp_path):
    system = FakeSystem(tmp_path, order_documents(order=None, notifications=()))

    told = story.order_story(system, 5, wait=0)

    assert told["outcome"] == {"status": None, "reason": "mini_order has no such order"}
    violated = {row["name"]: row["violations"] for row in told["audit"]["invariants"]}
    assert violated["payments have orders"] == [
        "PAYMENT #3 of 300.00 on alice's account for order 5: no such order in mini_order"
    ]
    assert [call for call in system.calls if call[0] == "order"] == [
        ("order", "story_order", "5")
    ] * 2
    assert "mini_user" not in told["services"]  # without the order, whose profile is unknown


def test_an_order_no_service_knows_is_an_error(tmp_path):
    system = FakeSystem(tmp_path, order_documents(order=None, payments=(), notifications=()))

    with pytest.raises(ManageError, match="no order 5: mini_order, mini_billing and mini_notif"):
        story.order_story(system, 5, wait=0)


def test_a_refused_payment_is_the_reason_of_an_insufficient_funds_order(tmp_path):
    documents = order_documents(
        order={
            **ORDER,
            "status": "INSUFFICIENT_FUNDS",
            "notifiedStatus": "",
            "paymentOperationId": "",
        },
        payments=(),
        notifications=(),
    )
    refusal = {
        "service": "mini_order", "key": "order-5-payment", "responseStatus": 402,
        "responseBody": {"code": "insufficient_funds",
                         "detail": "The balance does not cover 300.00"},
        "createdAt": "2026-01-02T10:00:00.100000+00:00",
    }  # fmt: skip
    documents[("billing", "story_order")]["paymentRequests"] = [refusal]

    told = story.order_story(FakeSystem(tmp_path, documents), 5, wait=0)

    assert told["outcome"]["reason"] == (
        "mini_billing declined the payment: 402 insufficient_funds: "
        "The balance does not cover 300.00"
    )
    assert "payment.refused" in [event["event"] for event in told["timeline"]]
    # Its FAIL notification is owed, not yet sent: pending, not a violation.
    assert told["audit"]["ok"] is True
    [owed] = [row for row in told["audit"]["invariants"] if row["pending"]]
    assert owed["pending"] == [
        "order 5 (alice, INSUFFICIENT_FUNDS 300.00): FAIL notification still owed by mini_order"
    ]


def test_an_insufficient_funds_order_whose_answer_expired_still_says_why():
    docs = {
        "order": {"order": {**ORDER, "status": "INSUFFICIENT_FUNDS"}},
        "billing": {"payments": [], "voids": [], "paymentRequests": []},
    }
    assert (
        "declined the payment (402: the balance did not cover it)"
        in (order_outcome(docs)["reason"])
    )


def test_the_order_story_as_text(paid_system):
    text = story_text.render_order(story.order_story(paid_system, 5, wait=0), var_dir="/v")
    lines = text.splitlines()

    assert lines[0] == "order 5 of alice: PAID, total 300.00"
    assert "  positions      2 × product 1 at 150.00" in lines
    assert (
        "  contact        notification #8 went to alice@example.com; "
        "mini_user's profile now: alice@example.com, no phone"
    ) in lines
    assert "audit of this order: OK, 5 invariants hold" in lines
    assert any(
        line.startswith("request rid-1: POST /api/v1/order → 201 by alice") for line in lines
    )


# --- a user ----------------------------------------------------------------------------------


USER_DOCUMENTS = {
    ("auth", "story_user"): {
        "user": {"username": "alice", "isActive": True, "roles": ["user"],
                 "dateJoined": "2026-01-02T09:00:00+00:00", "lastLogin": None},
        "registration": {"status": "COMPLETE", "completedAt": "2026-01-02T09:00:01+00:00"},
        "sessions": [], "sessionsTotal": 0, "tokenCutoff": None,
        "audit": {"completeUsernames": ["alice"], "pendingRegistrations": []},
    },
    ("user", "story_user"): {"profile": PROFILE, "audit": {"profileUsernames": ["alice"]}},
    ("billing", "story_user"): {
        "account": {"username": "alice", "balance": "700.00",
                    "createdAt": "2026-01-02T09:00:00.500000+00:00"},
        "operations": [PAYMENT], "operationsTotal": 2, "voids": [],
        "audit": {
            "accounts": [{"username": "alice", "balance": "700.00", "operationsTotal": "700.00",
                          "operations": 2}],
            "payments": [{"id": 3, "orderId": 5, "username": "alice", "amount": "300.00"}],
        },
    },
    ("order", "story_user"): {
        "orders": [ORDER], "ordersTotal": 1,
        "audit": order_documents()[("order", "story_order")]["audit"],
    },
    ("notif", "story_user"): {
        "notifications": [NOTIFICATION], "notificationsTotal": 1,
        "audit": order_documents()[("notif", "story_order")]["audit"],
    },
}  # fmt: skip


def test_a_users_story_in_time_order_with_the_audit_of_their_rows(tmp_path):
    system = FakeSystem(tmp_path, USER_DOCUMENTS)

    told = story.user_story(system, "alice", limit=7)

    assert [event["event"] for event in told["timeline"]] == [
        "user.created",
        "profile.created",
        "account.created",
        "registration.complete",
        "order.created",
        "operation.payment",
        "notification.created",
        "notification.sent",
        "order.written",
    ]
    assert list(told["services"]) == [
        "mini_auth",
        "mini_user",
        "mini_billing",
        "mini_order",
        "mini_notif",
    ]
    assert told["audit"]["ok"] is True
    assert len(told["audit"]["invariants"]) == 7
    # Every listing service was asked for the limit; mini_user lists nothing.
    asked = {call[0]: call[1:] for call in system.calls}
    assert asked["billing"] == ("story_user", "alice", "--limit", "7")
    assert asked["user"] == ("story_user", "alice")
    text = story_text.render_user(told)
    assert "  account        balance 700.00, 2 operations, the newest 1 listed" in (
        text.splitlines()
    )


def test_an_account_whose_balance_is_off_fails_the_users_audit(tmp_path):
    documents = copy.deepcopy(USER_DOCUMENTS)
    documents[("billing", "story_user")]["audit"]["accounts"][0]["balance"] = "650.00"

    told = story.user_story(FakeSystem(tmp_path, documents), "alice")

    violated = {row["name"]: row["violations"] for row in told["audit"]["invariants"]}
    assert violated["balances"] == [
        "account alice: balance 650.00 != sum of its 2 operations 700.00"
    ]


def test_a_name_no_service_knows_is_an_error(tmp_path):
    empty = {
        ("auth", "story_user"): {
            "user": None, "registration": None, "sessions": [], "tokenCutoff": None,
            "audit": {"completeUsernames": [], "pendingRegistrations": []},
        },
        ("user", "story_user"): {"profile": None, "audit": {"profileUsernames": []}},
        ("billing", "story_user"): {
            "account": None, "operations": [], "voids": [],
            "audit": {"accounts": [], "payments": []},
        },
        ("order", "story_user"): {"orders": [], "audit": {"orders": []}},
        ("notif", "story_user"): {"notifications": [], "audit": {"notifications": []}},
    }  # fmt: skip
    with pytest.raises(ManageError, match="no user 'nobody': no service has a record"):
        story.user_story(FakeSystem(tmp_path, empty), "nobody")


def test_a_failing_service_command_is_reported_with_its_output(tmp_path):
    class Failing(FakeSystem):
        def manage(self, name, *args, capture=False, check=True):
            return subprocess.CompletedProcess(args, 1, stdout="", stderr="no such table")

    with pytest.raises(ManageError, match="mini_order: manage.py story_order 5 failed:\nno such"):
        story.order_story(Failing(tmp_path, {}), 5, wait=0)


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_an_order_id_must_be_a_positive_number(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["story", "order", value])
    assert exit_info.value.code == 2
    assert "is not a positive whole number" in capsys.readouterr().err


def test_story_takes_an_order_or_a_user():
    args = cli.parse_args(["story", "user", "alice", "--limit", "5", "--json"])
    assert (args.kind, args.username, args.limit, args.json) == ("user", "alice", 5, True)
    with pytest.raises(SystemExit):
        cli.parse_args(["story", "invoice", "5"])
