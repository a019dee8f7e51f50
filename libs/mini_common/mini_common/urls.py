"""URL patterns every service shares: health, metrics, admin, and the OpenAPI docs.

And the benchmark's own endpoints, which a service routes only when
``MINI_BENCH_ENDPOINTS`` is on (``bench`` turns it on for the system it starts).
"""

from django.contrib import admin
from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from mini_common.conf import mini_setting
from mini_common.health import healthz, readyz
from mini_common.metrics import metrics_view


def common_urlpatterns(short_name: str) -> list:
    """``/healthz``, ``/readyz``, ``/metrics``, ``/admin/<short>/``, ``/docs/<short>/``."""
    return [
        path("healthz", healthz, name="healthz"),
        path("readyz", readyz, name="readyz"),
        path("metrics", metrics_view, name="metrics"),
        path(f"admin/{short_name}/", admin.site.urls),
        # JSON as its name says: the plain view answers YAML unless asked for JSON.
        path(f"docs/{short_name}/schema.json", SpectacularJSONAPIView.as_view(), name="schema"),
        path(
            f"docs/{short_name}/",
            SpectacularSwaggerView.as_view(url_name="schema"),
            name="swagger-ui",
        ),
    ]


def bench_urlpatterns(*patterns: URLPattern) -> list[URLPattern]:
    """``patterns`` if the benchmark's endpoints are on, else none (a 404 problem).

    MINI_BENCH_ENDPOINTS (``MINI_COMMON["BENCH_ENDPOINTS"]``): off by default,
    refused in production (mini_common.settings), on in the systems ``bench``
    starts. Read when the service's URLconf is imported, i.e. once per process.
    """
    return list(patterns) if mini_setting("BENCH_ENDPOINTS") else []
