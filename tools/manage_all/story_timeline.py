"""A story's events in time order, from the rows the services print (story.py).

Each event is ``{"time", "service", "event", "text"}``, ``time`` in UTC with
microseconds (``2026-01-02T03:04:05.123456Z``), so the texts sort by it.
Only what a row records becomes an event: mini_order keeps no history of an
order's transitions, so an order has two, its creation (``createdAt``, NEW)
and the last write of its row (``updatedAt``, with the state it left).
Rows are read by field name with ``.get``: a service may add columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import observe

Row = dict[str, Any]
Docs = dict[str, dict[str, Any]]


# --- time -------------------------------------------------------------------------------


def _datetime(value: str | float) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_time(value: str | float) -> float:
    """Seconds since the epoch of an ISO 8601 time (UTC when it names no zone) or a number."""
    return _datetime(value).timestamp()


def iso(value: str | float) -> str:
    """The one form of a time in a story: UTC, microseconds, ``Z``."""
    return _datetime(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(time: str | float, service: str, kind: str, text: str) -> Row:
    return {"time": iso(time), "service": service, "event": kind, "text": text}


def in_time_order(events: list[Row]) -> list[Row]:
    return sorted(events, key=lambda row: row["time"])  # stable: sources keep their order


# --- an order ---------------------------------------------------------------------------


def positions_text(order: Row) -> str:
    return ", ".join(
        f"{p.get('quantity')} × product {p.get('productId')} at {p.get('price')}"
        for p in order.get("positions", [])
    )


def _refusals(billing: Row) -> list[Row]:
    """mini_billing's stored answers to the order's payment requests that took no money."""
    return [
        row for row in billing.get("paymentRequests", []) if (row.get("responseStatus") or 0) >= 300
    ]


def _answer_text(row: Row) -> str:
    body = row.get("responseBody")
    body = body if isinstance(body, dict) else {}
    parts = [str(row.get("responseStatus", "")), str(body.get("code", ""))]
    text = " ".join(part for part in parts if part)
    return f"{text}: {body['detail']}" if body.get("detail") else text


def order_outcome(docs: Docs) -> Row:
    """The order's status and why it is what it is, in the services' own words."""
    order = docs["order"].get("order")
    if not order:
        return {"status": None, "reason": "mini_order has no such order"}
    return {
        "status": order.get("status"),
        "reason": _reason(order, docs["billing"]),
        "notifiedStatus": order.get("notifiedStatus", ""),
    }


def _reason(order: Row, billing: Row) -> str:
    status, payments, voids = order.get("status"), billing.get("payments"), billing.get("voids")
    refusals = _refusals(billing)
    if status == "PAID":
        if not payments:
            return "marked PAID, but mini_billing has no PAYMENT for it"
        return f"paid: PAYMENT #{payments[0].get('id')} of {payments[0].get('amount')}"
    if status == "INSUFFICIENT_FUNDS":
        if refusals:
            return f"mini_billing declined the payment: {_answer_text(refusals[-1])}"
        # mini_order sets this status on billing's 402 only; billing's answer expires.
        return (
            "mini_billing declined the payment (402: the balance did not cover it); its "
            "stored answer is no longer kept (MINI_IDEMPOTENCY_TTL)"
        )
    if status == "CANCELLED":
        if voids:
            when = iso(voids[0]["createdAt"])
            return f"cancelled unpaid: mini_billing declared its payment void ({when})"
        if refusals:
            return (
                f"cancelled: mini_billing refused the payment request: {_answer_text(refusals[-1])}"
            )
        return "cancelled; mini_billing has not declared its payment void yet (reconcile does)"
    lease = order.get("lockedUntil")
    if lease and parse_time(lease) > datetime.now(UTC).timestamp():
        return f"not settled yet: a request is working on it (lease until {iso(lease)})"
    return (
        "not settled: its request did not finish; the same request repeated (same "
        "Idempotency-Key) or `manage_all.py reconcile` settles it from mini_billing's records"
    )


def order_row_events(order: Row) -> list[Row]:
    label = f"order {order.get('id')}"
    events = [
        event(
            order["createdAt"],
            "mini_order",
            "order.created",
            f"{label} created NEW by {order.get('username')}: total {order.get('totalCost')}"
            + (f" ({positions_text(order)})" if order.get("positions") else ""),
        )
    ]
    status, notified = order.get("status"), order.get("notifiedStatus")
    if status != "NEW" or notified or order.get("paymentVoided"):
        state = [f"status {status}"]
        if notified:
            state.append(f"notified {notified}")
        if order.get("paymentOperationId"):
            state.append(f"payment operation #{order['paymentOperationId']}")
        if order.get("paymentVoided"):
            state.append("payment declared void")
        events.append(
            event(
                order["updatedAt"],
                "mini_order",
                "order.written",
                f"{label} row last written: {', '.join(state)}",
            )
        )
    return events


def operation_event(operation: Row) -> Row:
    what = f"{operation.get('type')} #{operation.get('id')} of {operation.get('amount')}"
    if operation.get("orderId") is not None:
        what += f" for order {operation['orderId']}"
    return event(
        operation["createdAt"],
        "mini_billing",
        f"operation.{str(operation.get('type', '')).lower()}",
        f"{what} on {operation.get('username')}'s account, "
        f"balance after {operation.get('balanceAfter')}",
    )


def void_event(void: Row) -> Row:
    return event(
        void["createdAt"],
        "mini_billing",
        "payment.void",
        f"payment of order {void.get('orderId')} declared void: no PAYMENT takes money for it",
    )


def refusal_event(row: Row) -> Row:
    return event(
        row["createdAt"],
        "mini_billing",
        "payment.refused",
        f"answered {row.get('service')}'s payment request ({row.get('key')}): " + _answer_text(row),
    )


def _recipient(notification: Row) -> str:
    return (
        " and ".join(
            value
            for value in (notification.get("contactEmail"), notification.get("contactPhone"))
            if value
        )
        or "no contact"
    )


def notification_events(notification: Row) -> list[Row]:
    label = f"notification #{notification.get('id')}"
    parent = f"{notification.get('parentType')} {notification.get('parentId')}".strip()
    events = [
        event(
            notification["createdAt"],
            "mini_notif",
            "notification.created",
            f"{notification.get('notificationType')} {label} ({parent}) for "
            f"{notification.get('username')} to {_recipient(notification)}: "
            f'"{notification.get("text", "")}"',
        )
    ]
    status, attempts = notification.get("deliveryStatus"), notification.get("attempts")
    if notification.get("sentAt"):
        events.append(
            event(
                notification["sentAt"],
                "mini_notif",
                "notification.sent",
                f"{label} sent (attempts: {attempts})",
            )
        )
    elif status in ("FAILED", "PENDING"):
        error = f": {notification['lastError']}" if notification.get("lastError") else ""
        events.append(
            event(
                notification["updatedAt"],
                "mini_notif",
                f"notification.{str(status).lower()}",
                f"{label} {status} after {attempts} attempts{error}",
            )
        )
    return events


def _request_event(request: Row) -> Row:
    summary = f"{request.get('method', '')} {request.get('path', '')} → {request.get('status', '')}"
    who = f" by {request['username']}" if request.get("username") else ""
    return event(
        request["start"],
        str(request.get("service") or "gateway"),
        "request",
        f"request {request['requestId']}: {summary.strip()}{who}",
    )


def _log_event(entry: Row) -> Row:
    time, service = observe.entry_time(entry), str(entry.get("service", ""))
    return event(time, service, "log", str(entry.get("message", "")))


def order_events(docs: Docs, requests: list[Row], log_events: list[Row]) -> list[Row]:
    """The order's story in time order: its rows in every service, its requests, job lines."""
    events: list[Row] = []
    order = docs["order"].get("order")
    if order:
        events += order_row_events(order)
    billing = docs["billing"]
    events += [operation_event(payment) for payment in billing.get("payments", [])]
    events += [void_event(void) for void in billing.get("voids", [])]
    events += [refusal_event(row) for row in _refusals(billing)]
    for notification in docs["notif"].get("notifications", []):
        events += notification_events(notification)
    events += [_request_event(request) for request in requests]
    events += [_log_event(entry) for entry in log_events]
    return in_time_order(events)
