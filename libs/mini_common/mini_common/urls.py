"""URL patterns every service shares: health, metrics, admin, and the OpenAPI docs."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

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
