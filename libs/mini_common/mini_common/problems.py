"""Rendering of every error as problem+json (RFC 9457).

``problem_exception_handler`` is DRF's EXCEPTION_HANDLER; ``handler404`` and
``handler500`` cover what happens outside DRF views (unknown URLs, crashes).
"""

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from mini_common.errors import ApiError

PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger("mini_common.problems")

# DRF exception -> stable code (DRF's own default_code is used otherwise).
DRF_CODES = {
    drf.ParseError: "malformed_request",
    drf.ValidationError: "validation_error",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "not_authenticated",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}


def problem(
    status: int,
    code: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or title or HTTPStatus(status).phrase,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return _encodable(body)


def _encodable(value: Any) -> Any:
    """``value`` with every string encodable as UTF-8: an error may echo what a client
    sent, and a lone surrogate in it would make the answer itself fail (a 500)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten_errors(detail: Any) -> dict[str, Any]:
    """DRF's error detail as {field: messages}; non-field errors under ``nonFieldErrors``."""
    plain = _plain(detail)
    return plain if isinstance(plain, dict) else {"nonFieldErrors": plain}


def _plain(value: Any) -> Any:
    """Error details as plain JSON, with DRF's ``non_field_errors`` renamed at every depth."""
    if isinstance(value, dict):
        return {
            ("nonFieldErrors" if key == "non_field_errors" else key): _plain(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApiError):
        body = problem(
            exc.status_code,
            exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            **exc.extra,
        )
        return problem_response(body, exc.headers)

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if not isinstance(exc, drf.APIException):
        return None  # a real bug: let Django log it and answer through handler500

    headers = {}
    wait = getattr(exc, "wait", None)  # Throttled's
    if wait:
        headers["Retry-After"] = str(int(wait))
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), exc.default_code)
    if isinstance(exc, drf.ValidationError):
        body = problem(
            400,
            code,
            title="Invalid input",
            detail="The request has invalid fields",
            errors=_flatten_errors(exc.detail),
        )
    else:
        body = problem(exc.status_code, code, detail=_plain(exc.detail))
    return problem_response(body, headers)


def handler404(request, exception=None):  # noqa: ARG001 - Django's handler signature
    return JsonResponse(
        problem(404, "not_found", detail="No such resource"),
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def handler500(request):  # noqa: ARG001 - Django's handler signature
    return JsonResponse(
        problem(500, "internal_error", detail="Unexpected server error"),
        status=500,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def handler400(request, exception=None):  # noqa: ARG001
    return JsonResponse(
        problem(400, "bad_request", detail="Bad request"),
        status=400,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def handler403(request, exception=None):  # noqa: ARG001
    return JsonResponse(
        problem(403, "permission_denied"),
        status=403,
        content_type=PROBLEM_CONTENT_TYPE,
    )
