"""The ``MINI_COMMON`` settings namespace, with defaults (as DRF does for REST_FRAMEWORK)."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Name of this service, sent as X-Service on every outgoing call.
    "SERVICE_NAME": "",
    # Shared secret every request to a service must carry in X-Internal-Token.
    "INTERNAL_TOKEN": "",
    # Paths served without X-Internal-Token (prefix match). /metrics is for
    # scrapers on the service's own port; the gateway never routes it.
    "PUBLIC_PATH_PREFIXES": ("/healthz", "/readyz", "/metrics", "/admin/", "/static/", "/docs/"),
    # Downstream services: name -> base URL.
    "SERVICES": {},
    "CONNECT_TIMEOUT": 1.0,
    "READ_TIMEOUT": 5.0,
    # Retry policy of the client (only for requests that are safe to repeat).
    "RETRY_ATTEMPTS": 3,
    "RETRY_BACKOFF_BASE": 0.05,
    "RETRY_BACKOFF_CAP": 1.0,
    # Circuit breaker per downstream service.
    "BREAKER_FAIL_MAX": 5,
    "BREAKER_RESET_TIMEOUT": 10.0,
    "BREAKER_PROBE_TIMEOUT": 0.25,
    # Time budget of one incoming request; outgoing calls never outlive it.
    "REQUEST_BUDGET": 20.0,
    # Idempotency: how long a stored response is replayed, and how long a
    # claimed key stays locked before a crashed holder's claim may be taken over.
    "IDEMPOTENCY_TTL": 24 * 3600,
    "IDEMPOTENCY_LEASE": 60.0,
    # Redis URL for shared breaker state; per process when empty.
    "REDIS_URL": "",
    # The benchmark's endpoints (mini_common.ping, routed by mini_common.urls.bench_urlpatterns):
    # only for `bench`, never in production.
    "BENCH_ENDPOINTS": False,
}


def mini_setting(name: str) -> Any:
    """One value of the MINI_COMMON settings dict, falling back to its default."""
    configured = getattr(settings, "MINI_COMMON", {})
    if name in configured:
        return configured[name]
    return DEFAULTS[name]
