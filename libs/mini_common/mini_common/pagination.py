from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``?page=1&pageSize=20`` (max 100) -> ``{count, next, previous, results}``."""

    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
