"""A user's story (`manage_all.py story user`) in time order, from the services' rows.

Events are story_timeline.py's; the user's come from mini_auth (the user, the
registration, login sessions, a token cutoff) and mini_user (the profile,
its creation and last write) besides their money, orders and notifications.
"""

from __future__ import annotations

from typing import Any

from .story_timeline import (
    event,
    in_time_order,
    notification_events,
    operation_event,
    order_row_events,
    parse_time,
    refusal_event,
    void_event,
)

Row = dict[str, Any]
Docs = dict[str, dict[str, Any]]


def _auth_events(auth: Row) -> list[Row]:
    events = []
    user, registration = auth.get("user"), auth.get("registration")
    if user:
        active = "active" if user.get("isActive") else "inactive"
        roles = ", ".join(user.get("roles", []))
        events.append(
            event(
                user["dateJoined"],
                "mini_auth",
                "user.created",
                f"user {user.get('username')} created (now {active}; roles {roles})",
            )
        )
        if user.get("lastLogin"):
            events.append(event(user["lastLogin"], "mini_auth", "user.login", "last login"))
    if registration:
        if registration.get("completedAt"):
            events.append(
                event(
                    registration["completedAt"],
                    "mini_auth",
                    "registration.complete",
                    "registration COMPLETE: profile and account created",
                )
            )
        elif registration.get("status") != "COMPLETE":
            error = f": {registration['lastError']}" if registration.get("lastError") else ""
            events.append(
                event(
                    registration["updatedAt"],
                    "mini_auth",
                    f"registration.{str(registration.get('status', '')).lower()}",
                    f"registration {registration.get('status')} after "
                    f"{registration.get('attempts')} attempts{error}",
                )
            )
    for session in auth.get("sessions", []):
        events.append(
            event(
                session["createdAt"],
                "mini_auth",
                "session.started",
                f"login: session #{session.get('id')} started",
            )
        )
        if session.get("revokedAt"):
            events.append(
                event(
                    session["revokedAt"],
                    "mini_auth",
                    "session.revoked",
                    f"session #{session.get('id')} revoked ({session.get('revokedReason')})",
                )
            )
    cutoff = auth.get("tokenCutoff")
    if cutoff:
        events.append(
            event(
                cutoff["updatedAt"],
                "mini_auth",
                "tokens.cutoff",
                f"tokens issued before {cutoff.get('notBefore')} void ({cutoff.get('reason')})",
            )
        )
    return events


def _profile_events(profile: Row | None) -> list[Row]:
    """Its creation, and its last write if that was an edit (the contact data is the header's)."""
    if not profile:
        return []
    events = [event(profile["createdAt"], "mini_user", "profile.created", "profile created")]
    # Both stamps are set on creation, microseconds apart: a later write is an edit.
    if parse_time(profile["updatedAt"]) - parse_time(profile["createdAt"]) > 1:
        events.append(
            event(profile["updatedAt"], "mini_user", "profile.written", "profile last written")
        )
    return events


def user_events(docs: Docs) -> list[Row]:
    """The user's story in time order: account, profile, money, orders, notifications."""
    events = _auth_events(docs["auth"]) + _profile_events(docs["user"].get("profile"))
    billing = docs["billing"]
    account = billing.get("account")
    if account:
        events.append(
            event(
                account["createdAt"],
                "mini_billing",
                "account.created",
                f"account opened for {account.get('username')}",
            )
        )
    events += [operation_event(operation) for operation in billing.get("operations", [])]
    events += [void_event(void) for void in billing.get("voids", [])]
    events += [refusal_event(row) for row in billing.get("refusedPayments", [])]
    for order in docs["order"].get("orders", []):
        events += order_row_events(order)
    for notification in docs["notif"].get("notifications", []):
        events += notification_events(notification)
    return in_time_order(events)
