from django.urls import path

from orders.apis import OrderApi, OrderDetailApi

urlpatterns = [
    path("order", OrderApi.as_view(), name="order"),
    path("order/<int:order_id>", OrderDetailApi.as_view(), name="order-detail"),
]
