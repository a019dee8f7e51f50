"""The error vocabulary shared by all services.

Each error carries the HTTP status, a stable machine-readable ``code`` and a
human title; the exception handler renders them as RFC 9457 problem details.
"""

from typing import Any


class ApiError(Exception):
    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.detail)


class ValidationFailed(ApiError):
    status_code = 400
    code = "validation_error"
    title = "Invalid input"


class NotAuthenticated(ApiError):
    status_code = 401
    code = "not_authenticated"
    title = "Authentication required"


class PermissionDenied(ApiError):
    status_code = 403
    code = "permission_denied"
    title = "Permission denied"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class RequestInProgress(Conflict):
    code = "request_in_progress"
    title = "A request with this Idempotency-Key is still in progress"


class IdempotencyKeyReused(ApiError):
    status_code = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different payload"


class InsufficientFunds(ApiError):
    status_code = 402
    code = "insufficient_funds"
    title = "Insufficient funds"


class DependencyUnavailable(ApiError):
    """A downstream service failed, timed out or has its circuit open."""

    status_code = 503
    code = "dependency_unavailable"
    title = "A service this request depends on is unavailable"

    def __init__(
        self,
        service: str,
        detail: str | None = None,
        *,
        retry_after: int = 5,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.service = service
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            detail or f"{service} is unavailable, try again later",
            extra={"service": service, **(extra or {})},
            headers={"Retry-After": str(self.retry_after)},
        )
