"""Liveness and readiness: ``/healthz`` (process alive) and ``/readyz`` (database answers)."""

from django.db import connection
from django.http import JsonResponse

from mini_common.conf import mini_setting
from mini_common.problems import PROBLEM_CONTENT_TYPE, problem


def healthz(request):
    return JsonResponse({"status": "ok", "service": mini_setting("SERVICE_NAME")})


def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        body = problem(503, "database_unavailable", detail=f"database: {exc.__class__.__name__}")
        return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)
    return JsonResponse({"status": "ready", "service": mini_setting("SERVICE_NAME")})
