from django.urls import include, path

from mini_common.ping import HopsPingApi, PingApi
from mini_common.urls import bench_urlpatterns, common_urlpatterns

urlpatterns = [
    path("api/v1/", include("orders.urls")),
    # Only with MINI_BENCH_ENDPOINTS on (bench's own systems); else a 404 problem.
    *bench_urlpatterns(
        # The benchmark's floor: routed by the gateway (JWT) like the orders themselves.
        path("api/v1/order/ping", PingApi.as_view(), name="order-ping"),
        # An order's hops without its work (mini_billing, then mini_notif): what the
        # synchronous design costs before any database write (bench measures it).
        path(
            "api/v1/order/ping/hops",
            HopsPingApi.as_view(
                hops=(("billing", "/billing/ping"), ("notif", "/api/v1/notification/ping"))
            ),
            name="order-ping-hops",
        ),
    ),
    *common_urlpatterns("order"),
]

handler400 = "mini_common.problems.handler400"
handler403 = "mini_common.problems.handler403"
handler404 = "mini_common.problems.handler404"
handler500 = "mini_common.problems.handler500"
