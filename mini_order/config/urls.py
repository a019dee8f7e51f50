from django.urls import include, path

from mini_common.ping import PingApi
from mini_common.urls import common_urlpatterns

urlpatterns = [
    path("api/v1/", include("orders.urls")),
    # The benchmark's floor: routed by the gateway (JWT) like the orders themselves.
    path("api/v1/order/ping", PingApi.as_view(), name="order-ping"),
    *common_urlpatterns("order"),
]

handler400 = "mini_common.problems.handler400"
handler403 = "mini_common.problems.handler403"
handler404 = "mini_common.problems.handler404"
handler500 = "mini_common.problems.handler500"
