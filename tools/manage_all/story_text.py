"""A story (story.py) as text for people: a header, the timeline, the audit, the requests."""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import observe
from .story_timeline import positions_text

Row = dict[str, Any]
_LABEL = 14


def _when(time: str) -> str:
    """``2026-01-02 03:04:05.123`` from a story's ``2026-01-02T03:04:05.123456Z``."""
    return time.replace("T", " ")[:23]


def _fact(label: str, text: str) -> str:
    return f"  {label:<{_LABEL}} {text}"


def _timeline(events: list[Row]) -> list[str]:
    lines = ["", "timeline (UTC):"]
    lines += [f"  {_when(e['time'])}  {e['service']:<13} {e['text']}" for e in events]
    if not events:
        lines.append("  (no event)")
    return lines


def _audit(audit: Row, what: str) -> list[str]:
    failed = [row for row in audit["invariants"] if row["violations"]]
    pending = sum(len(row["pending"]) for row in audit["invariants"])
    head = f"audit of {what}: " + (
        f"FAILED, {len(failed)} of {len(audit['invariants'])} invariants broken"
        if failed
        else f"OK, {len(audit['invariants'])} invariants hold"
    )
    if pending:
        head += f"; {pending} pending (`manage_all.py reconcile` finishes them)"
    lines = ["", head]
    width = max(len(row["name"]) for row in audit["invariants"])
    for row in audit["invariants"]:
        mark = "FAIL" if row["violations"] else "ok"
        lines.append(f"  {mark:<5}{row['name']:<{width}}  {row['checked']} checked   {row['rule']}")
        lines += [f"         violated: {item}" for item in row["violations"]]
        lines += [f"         pending: {item}" for item in row["pending"]]
    return lines


def _counted(rows: list[Row], total: int | None, noun: str, key: str = "") -> str:
    """ "3 orders: 2 PAID, 1 CANCELLED"; "250 orders, the newest 100 listed: ..." when cut."""
    count = len(rows) if total is None else total
    text = f"{count} {noun if count == 1 else noun + 's'}"
    if count > len(rows):
        text += f", the newest {len(rows)} listed"
    if key and rows:
        values = Counter(str(row.get(key)) for row in rows).most_common()
        text += ": " + ", ".join(f"{number} {value}" for value, number in values)
    return text


def _profile(profile: Row) -> str:
    return f"{profile.get('email') or 'no e-mail'}, {profile.get('phone') or 'no phone'}"


# --- an order ---------------------------------------------------------------------------


def _contact(story: Row) -> str:
    services = story["services"]
    used = [
        f"notification #{row.get('id')} went to "
        + (
            " and ".join(v for v in (row.get("contactEmail"), row.get("contactPhone")) if v)
            or "no contact"
        )
        for row in services["mini_notif"].get("notifications", [])
    ]
    profile = services.get("mini_user", {}).get("profile")
    if profile:
        used.append(f"mini_user's profile now: {_profile(profile)}")
    elif "mini_user" in services:
        used.append("mini_user has no profile of the user")
    return "; ".join(used) or "none recorded"


def _request(request: Row) -> list[str]:
    summary = f"{request.get('method', '')} {request.get('path', '')} → {request.get('status', '')}"
    who = f" by {request['username']}" if request.get("username") else ""
    lines = ["", f"request {request['requestId']}: {summary}{who}, {_when(request['start'])}"]
    lines += [f"  found: {why}" for why in request["foundBy"]]
    lines += [f"  {observe.format_entry(entry)}" for entry in request["logs"]]
    for trace in request["traces"]:
        lines += [""] + [
            f"  {line}" for line in observe.render_waterfall(trace["spans"]).splitlines()
        ]
    if not request["traces"]:
        lines.append("  (no span of it in the trace files)")
    return lines


def render_order(story: Row, *, var_dir: str = "") -> str:
    services = story["services"]
    order = services["mini_order"].get("order")
    outcome = story["outcome"]
    if order:
        head = (
            f"order {story['orderId']} of {order.get('username')}: {order.get('status')}, "
            f"total {order.get('totalCost')}"
        )
    else:
        head = f"order {story['orderId']}: mini_order has no such order"
    lines = [head]
    if order:
        lines.append(_fact("positions", positions_text(order) or "none"))
        lines.append(_fact("outcome", outcome["reason"]))
        lines.append(_fact("notified", outcome.get("notifiedStatus") or "not yet"))
    lines.append(_fact("contact", _contact(story)))
    sources = ", ".join(services)
    lines.append(
        _fact("read from", sources + (f"; logs and traces in {var_dir}" if var_dir else ""))
    )
    lines += _timeline(story["timeline"])
    lines += _audit(story["audit"], "this order")
    lines += ["", f"requests that touched it: {len(story['requests'])}"]
    for request in story["requests"]:
        lines += _request(request)
    return "\n".join(lines)


# --- a user -----------------------------------------------------------------------------


def render_user(story: Row) -> str:
    services = story["services"]
    auth, billing = services["mini_auth"], services["mini_billing"]
    orders, notif = services["mini_order"], services["mini_notif"]
    user, registration = auth.get("user"), auth.get("registration")
    if user:
        state = "active" if user.get("isActive") else "inactive"
        head = f"user {story['username']}: {state}, roles {', '.join(user.get('roles', []))}"
    else:
        head = f"user {story['username']}: mini_auth has no such user"
    if registration:
        head += f"; registration {registration.get('status')}"
    lines = [head]
    profile = services["mini_user"].get("profile")
    account = billing.get("account")
    operations = billing.get("operations", [])
    lines += [
        _fact("profile", _profile(profile) if profile else "none in mini_user"),
        _fact(
            "account",
            f"balance {account.get('balance')}, "
            + _counted(operations, billing.get("operationsTotal"), "operation")
            if account
            else "none in mini_billing",
        ),
        _fact(
            "orders",
            _counted(orders.get("orders", []), orders.get("ordersTotal"), "order", "status"),
        ),
        _fact(
            "notifications",
            _counted(
                notif.get("notifications", []),
                notif.get("notificationsTotal"),
                "notification",
                "deliveryStatus",
            ),
        ),
        _fact("logins", _counted(auth.get("sessions", []), auth.get("sessionsTotal"), "session")),
    ]
    lines += _timeline(story["timeline"])
    lines += _audit(story["audit"], "this user")
    return "\n".join(lines)
