"""StandardPagination's links: relative, never built from the client's Host header."""

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from mini_common.pagination import StandardPagination


def page(path: str, **headers) -> dict:
    request = Request(APIRequestFactory().get(path, **headers))
    paginator = StandardPagination()
    items = paginator.paginate_queryset(list(range(50)), request)
    return paginator.get_paginated_response(items).data


def test_links_are_relative_whatever_host_the_client_names():
    first = page("/api/v1/order?status=PAID&pageSize=10", HTTP_HOST="evil.example")
    assert first["count"] == 50
    assert first["next"] == "/api/v1/order?page=2&pageSize=10&status=PAID"
    assert first["previous"] is None
    assert "evil" not in str(first)


def test_previous_of_page_two_drops_the_page_parameter():
    middle = page("/api/v1/order?page=2&pageSize=20", HTTP_HOST="evil.example:8000")
    assert middle["previous"] == "/api/v1/order?pageSize=20"
    assert middle["next"] == "/api/v1/order?page=3&pageSize=20"
    last = page("/api/v1/order?page=3&pageSize=20")
    assert (last["previous"], last["next"]) == ("/api/v1/order?page=2&pageSize=20", None)
