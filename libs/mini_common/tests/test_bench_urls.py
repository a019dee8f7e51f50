"""The benchmark's endpoints: routed only with MINI_BENCH_ENDPOINTS on, never in production."""

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import clear_url_caches, path

from mini_common.ping import PingApi
from mini_common.urls import bench_urlpatterns

from .test_production_settings import GOOD, build

URLCONF = "tests.bench_urls"


@pytest.fixture
def bench_urls(settings):
    """Route tests.bench_urls, imported afresh under the MINI_COMMON the test sets."""

    def route(*, on: bool) -> None:
        settings.MINI_COMMON = {**settings.MINI_COMMON, "BENCH_ENDPOINTS": on}
        sys.modules.pop(URLCONF, None)
        settings.ROOT_URLCONF = URLCONF
        clear_url_caches()

    yield route
    sys.modules.pop(URLCONF, None)
    clear_url_caches()


def test_off_by_default(monkeypatch):
    monkeypatch.setenv("MINI_ENV", "development")
    monkeypatch.delenv("MINI_BENCH_ENDPOINTS", raising=False)
    assert build()["MINI_COMMON"]["BENCH_ENDPOINTS"] is False
    monkeypatch.setenv("MINI_BENCH_ENDPOINTS", "1")
    assert build()["MINI_COMMON"]["BENCH_ENDPOINTS"] is True


def test_production_refuses_them(monkeypatch, tmp_path):
    monkeypatch.setenv("MINI_ENV", "production")
    monkeypatch.setenv("MINI_VAR_DIR", str(tmp_path))
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MINI_BENCH_ENDPOINTS", "1")
    with pytest.raises(ImproperlyConfigured, match="MINI_BENCH_ENDPOINTS must be off"):
        build()
    monkeypatch.setenv("MINI_BENCH_ENDPOINTS", "0")
    assert build()["MINI_COMMON"]["BENCH_ENDPOINTS"] is False


def test_the_patterns_are_empty_unless_on(settings):
    pattern = path("ping", PingApi.as_view())
    settings.MINI_COMMON = {**settings.MINI_COMMON, "BENCH_ENDPOINTS": False}
    assert bench_urlpatterns(pattern) == []
    settings.MINI_COMMON = {**settings.MINI_COMMON, "BENCH_ENDPOINTS": True}
    assert bench_urlpatterns(pattern) == [pattern]


def test_off_the_ping_is_a_404_problem(bench_urls, make_user_client):
    bench_urls(on=False)
    response = make_user_client("alice").get("/ping")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_on_the_ping_answers(bench_urls, make_user_client):
    bench_urls(on=True)
    response = make_user_client("alice").get("/ping")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "mini_test"}
