"""Per-request context that outgoing calls and log lines need.

Held in contextvars so that the client and the logging filter can read it
without passing the request around.

With tracing set up (mini_common.tracing), the request's trace and span ids
are those of its OpenTelemetry SERVER span, which continued the caller's
``traceparent``; without it they are parsed from ``traceparent`` here, so logs
and outgoing calls stay correlated either way.
"""

import contextvars
import re
import secrets
import time
from dataclasses import dataclass, replace

from opentelemetry import trace

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    trace_id: str
    span_id: str
    trace_flags: str = "01"
    username: str = ""
    deadline: float | None = None  # time.monotonic() value; None = no budget

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()

    def child_traceparent(self) -> str:
        """A traceparent for an outgoing call: same trace, new span id."""
        return f"00-{self.trace_id}-{secrets.token_hex(8)}-{self.trace_flags}"


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "mini_request_context", default=None
)


def new_request_id() -> str:
    return secrets.token_hex(16)


def context_from_headers(
    request_id: str | None, traceparent: str | None, budget: float | None
) -> RequestContext:
    """Build the context of an incoming request, accepting only sane header values.

    The active OpenTelemetry span (the request's SERVER span), when there is
    one, provides the trace ids and is labelled with the request id.
    """
    if not request_id or not REQUEST_ID_PATTERN.match(request_id):
        request_id = new_request_id()
    deadline = time.monotonic() + budget if budget else None
    span = trace.get_current_span()
    span_context = span.get_span_context()
    if span_context.is_valid:
        span.set_attribute("mini.request_id", request_id)
        return RequestContext(
            request_id,
            format(span_context.trace_id, "032x"),
            format(span_context.span_id, "016x"),
            format(span_context.trace_flags, "02x"),
            deadline=deadline,
        )
    match = TRACEPARENT_PATTERN.match(traceparent or "")
    if match and match.group(1) != "0" * 32:
        trace_id, flags = match.group(1), match.group(3)
    else:
        trace_id, flags = secrets.token_hex(16), "01"
    return RequestContext(request_id, trace_id, secrets.token_hex(8), flags, deadline=deadline)


def current_context() -> RequestContext | None:
    return _current.get()


def set_context(context: RequestContext | None) -> contextvars.Token:
    return _current.set(context)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


def set_username(username: str) -> None:
    """Record the authenticated user on the current context (for logs) and span."""
    context = _current.get()
    if context is not None and context.username != username:
        _current.set(replace(context, username=username))
        trace.get_current_span().set_attribute("enduser.id", username)
