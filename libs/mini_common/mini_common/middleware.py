"""Middleware every service installs, outermost first:

1. ``RequestContextMiddleware``: request id, trace context and time budget of
   the request; echoes ``X-Request-ID``; writes one access log line; a span per
   SQL statement of a sampled request.
2. ``InternalTokenMiddleware``: refuses any request that does not carry the
   deployment's internal token (health, admin, static and docs excepted).
"""

import hmac
import logging
import time
from contextlib import nullcontext

from django.db import connection
from django.http import JsonResponse
from opentelemetry import trace

from mini_common.conf import mini_setting
from mini_common.context import context_from_headers, reset_context, set_context
from mini_common.problems import PROBLEM_CONTENT_TYPE, problem
from mini_common.tracing import query_span

access_log = logging.getLogger("mini_common.access")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        context = context_from_headers(
            request.headers.get("X-Request-ID"),
            request.headers.get("traceparent"),
            mini_setting("REQUEST_BUDGET"),
        )
        token = set_context(context)
        request.request_id = context.request_id
        # Statement spans only in a trace that is recorded: an unsampled request's
        # queries are not wrapped at all.
        recorded = trace.get_current_span().is_recording()
        try:
            with connection.execute_wrapper(query_span) if recorded else nullcontext():
                response = self.get_response(request)
            response["X-Request-ID"] = context.request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 2),
                    "caller": request.headers.get("X-Service", ""),
                },
            )
            return response
        finally:
            reset_context(token)


def internal_token_valid(request) -> bool:
    expected = mini_setting("INTERNAL_TOKEN")
    supplied = request.headers.get("X-Internal-Token", "")
    return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


class InternalTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.public_prefixes = tuple(mini_setting("PUBLIC_PATH_PREFIXES"))

    def __call__(self, request):
        if not request.path.startswith(self.public_prefixes) and not internal_token_valid(request):
            body = problem(
                401,
                "not_authenticated",
                detail="Requests must come through the gateway or a trusted service",
            )
            return JsonResponse(body, status=401, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)
