"""`manage_all.py story order <id>` / `story user <username>`: one order's or one user's story.

Everything every service knows about it, read through each service's own
`manage.py story_order` / `story_user` (JSON of its rows; no service's
database is read from here), put in time order (story_timeline.py), with the
audit's invariants checked for it alone (invariants.py over the `audit` part
of those documents, which has the shape of `audit_export`'s), and for an order
the requests that touched it, from the logs, with their traces
(story_logs.py). story_text.py renders it for people; `--json` prints the
document itself.

The documents are taken in the audit's order (invariants.py, EXPORTS), so work
in flight shows as pending, never as a violation: mini_order before
mini_billing and mini_notif, and mini_order once more when mini_billing has a
payment of an order the first read did not have.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from . import story_logs, story_timeline, story_user_timeline
from .invariants import (
    CHECKS,
    Facts,
    Invariant,
    check_duplicate_notifications,
    check_order_notifications,
    check_paid_orders,
    check_payments_have_orders,
    check_unpaid_orders,
)
from .layout import SERVICES, ManageError, process_name

if TYPE_CHECKING:
    from .system import System

ORDER_COMMAND = "story_order"
USER_COMMAND = "story_user"
# The services whose story_user lists rows, and so takes --limit.
LISTING_SERVICES = ("auth", "billing", "order", "notif")
DEFAULT_LIMIT = 100
# The invariants about one order; balances and registrations are the user's.
ORDER_CHECKS: tuple[Callable[[Facts], Invariant], ...] = (
    check_paid_orders,
    check_payments_have_orders,
    check_unpaid_orders,
    check_order_notifications,
    check_duplicate_notifications,
)
# What an export part is when its service was not asked (or has no row of it).
_EMPTY_EXPORTS: dict[str, dict[str, list[Any]]] = {
    "auth": {"completeUsernames": [], "pendingRegistrations": []},
    "user": {"profileUsernames": []},
    "order": {"orders": []},
    "billing": {"accounts": [], "payments": []},
    "notif": {"notifications": []},
}

Documents = dict[str, dict[str, Any]]
Job = tuple[str, tuple[str, ...]]  # (service, manage.py arguments)


# --- the services' documents ----------------------------------------------------------


def service_document(system: System, name: str, *args: str) -> dict[str, Any]:
    """The JSON document a service's story command prints; ManageError if it cannot."""
    command = args[0]
    if not system.has_command(name, command):
        raise ManageError(f"{process_name(name)} has no {command} command")
    result = system.manage(name, *args, capture=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise ManageError(f"{process_name(name)}: manage.py {' '.join(args)} failed:\n{output}")
    try:
        document = json.loads(result.stdout)
    except ValueError as error:
        raise ManageError(f"{process_name(name)}: {command} printed no JSON ({error})") from None
    if not isinstance(document, dict):
        raise ManageError(f"{process_name(name)}: {command} printed no JSON object")
    return document


def documents(system: System, jobs: Mapping[str, Job]) -> Documents:
    """Several services' documents at once (each is a Django start-up: seconds)."""
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = {
            key: pool.submit(service_document, system, name, *args)
            for key, (name, args) in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}


def _orders_missing_for_payments(docs: Documents) -> bool:
    known = {row.get("id") for row in docs["order"].get("audit", {}).get("orders", [])}
    payments = docs["billing"].get("audit", {}).get("payments", [])
    return any(row.get("orderId") not in known for row in payments)


# --- the audit for one order or one user ------------------------------------------------


def audit_verdict(
    docs: Documents, checks: Sequence[Callable[[Facts], Invariant]]
) -> dict[str, Any]:
    """The audit's invariants over the `audit` parts of the documents: what holds for these rows."""
    exports = {
        key: {**empty, **docs[key]["audit"]} if key in docs else empty
        for key, empty in _EMPTY_EXPORTS.items()
    }
    if "order_again" in docs:
        exports["order_again"] = docs["order_again"]["audit"]
    try:
        facts = Facts(exports)
        results = [check(facts) for check in checks]
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise ManageError(
            f"story: a service's audit rows are not as expected ({error!r})"
        ) from None
    return {
        "ok": all(result.ok for result in results),
        "invariants": [
            {
                "name": result.name,
                "rule": result.rule,
                "checked": result.checked,
                "violations": result.violations,
                "pending": result.pending,
            }
            for result in results
        ],
    }


# --- one order --------------------------------------------------------------------------


def order_story(system: System, order_id: int, *, wait: float = 2.0) -> dict[str, Any]:
    """Everything the services, logs and traces know about one order.

    ManageError when no service knows the order at all.
    """
    docs = {"order": service_document(system, "order", ORDER_COMMAND, str(order_id))}
    order = docs["order"].get("order")
    username = order.get("username") if order else None
    jobs: dict[str, Job] = {
        "billing": ("billing", (ORDER_COMMAND, str(order_id))),
        "notif": ("notif", (ORDER_COMMAND, str(order_id))),
    }
    if username:
        jobs["user"] = ("user", (USER_COMMAND, username))
    docs.update(documents(system, jobs))
    if _orders_missing_for_payments(docs):
        docs["order_again"] = service_document(system, "order", ORDER_COMMAND, str(order_id))
    billing = docs["billing"]
    known = (
        order,
        billing.get("payments"),
        billing.get("voids"),
        billing.get("paymentRequests"),
        docs["notif"].get("notifications"),
    )
    if not any(known):
        raise ManageError(
            f"no order {order_id}: mini_order, mini_billing and mini_notif have no record of it"
        )
    requests, log_events = story_logs.order_requests(system, order_id, docs, wait=wait)
    return {
        "kind": "order",
        "orderId": order_id,
        "username": username,
        "outcome": story_timeline.order_outcome(docs),
        "services": {process_name(key): doc for key, doc in docs.items() if key != "order_again"},
        "timeline": story_timeline.order_events(docs, requests, log_events),
        "audit": audit_verdict(docs, ORDER_CHECKS),
        "requests": requests,
    }


# --- one user ---------------------------------------------------------------------------


def _user_job(name: str, username: str, limit: int) -> Job:
    args: tuple[str, ...] = (USER_COMMAND, username)
    if name in LISTING_SERVICES:
        args += ("--limit", str(limit))
    return name, args


def user_story(system: System, username: str, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Everything the services know about one user; ManageError when none knows the name.

    mini_auth is read before mini_user and mini_billing, mini_order before
    mini_billing and mini_notif (the audit's order): in two rounds.
    """
    docs = documents(system, {key: _user_job(key, username, limit) for key in ("auth", "order")})
    later = {key: _user_job(key, username, limit) for key in ("user", "billing", "notif")}
    docs.update(documents(system, later))
    if _orders_missing_for_payments(docs):
        name, args = _user_job("order", username, limit)
        docs["order_again"] = service_document(system, name, *args)
    known = (
        docs["auth"].get("user") or docs["auth"].get("registration"),
        docs["user"].get("profile"),
        docs["billing"].get("account"),
        docs["billing"].get("voids") or docs["billing"].get("refusedPayments"),
        docs["order"].get("orders"),
        docs["notif"].get("notifications"),
    )
    if not any(known):
        raise ManageError(f"no user {username!r}: no service has a record of that name")
    return {
        "kind": "user",
        "username": username,
        "services": {process_name(key): docs[key] for key in SERVICES},
        "timeline": story_user_timeline.user_events(docs),
        "audit": audit_verdict(docs, CHECKS),
    }
