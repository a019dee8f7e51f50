from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param


class StandardPagination(PageNumberPagination):
    """``?page=1&pageSize=20`` (max 100) -> ``{count, next, previous, results}``.

    ``next`` and ``previous`` are relative references (``/api/v1/order?page=2``),
    resolved against the URL the client asked: DRF's absolute ones are built
    from the Host header, which the client writes (``Host: evil.example``
    became ``http://evil.example/...`` wherever ALLOWED_HOSTS is ``*``).
    The gateway passes the path unchanged, so it is the client's own.
    """

    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100

    def _current(self):
        # Both are set by paginate_queryset, which runs before any link is asked for.
        assert self.page is not None and self.request is not None
        return self.page, self.request

    def get_next_link(self):
        page, request = self._current()
        if not page.has_next():
            return None
        url = request.get_full_path()
        return replace_query_param(url, self.page_query_param, page.next_page_number())

    def get_previous_link(self):
        page, request = self._current()
        if not page.has_previous():
            return None
        url = request.get_full_path()
        page_number = page.previous_page_number()
        if page_number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page_number)
