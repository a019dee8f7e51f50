from django.urls import include, path

from mini_common.ping import PingApi
from mini_common.urls import bench_urlpatterns, common_urlpatterns

urlpatterns = [
    path("api/v1/", include("notifications.urls")),
    # Called by mini_order's ping/hops (bench): a floor request of this service.
    *bench_urlpatterns(path("api/v1/notification/ping", PingApi.as_view(), name="notif-ping")),
    *common_urlpatterns("notif"),
]

handler400 = "mini_common.problems.handler400"
handler403 = "mini_common.problems.handler403"
handler404 = "mini_common.problems.handler404"
handler500 = "mini_common.problems.handler500"
