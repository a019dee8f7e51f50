"""A URLconf with the benchmark's floor behind bench_urlpatterns, as the services route it."""

from django.urls import path

from mini_common.ping import PingApi
from mini_common.urls import bench_urlpatterns

urlpatterns = [*bench_urlpatterns(path("ping", PingApi.as_view()))]
handler404 = "mini_common.problems.handler404"
