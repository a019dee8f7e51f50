"""URL patterns every service shares: health, admin, and the OpenAPI docs."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mini_common.health import healthz, readyz


def common_urlpatterns(short_name: str) -> list:
    """``/healthz``, ``/readyz``, ``/admin/<short>/`` and ``/docs/<short>/`` (with the schema)."""
    return [
        path("healthz", healthz, name="healthz"),
        path("readyz", readyz, name="readyz"),
        path(f"admin/{short_name}/", admin.site.urls),
        path(f"docs/{short_name}/schema.json", SpectacularAPIView.as_view(), name="schema"),
        path(
            f"docs/{short_name}/",
            SpectacularSwaggerView.as_view(url_name="schema"),
            name="swagger-ui",
        ),
    ]
